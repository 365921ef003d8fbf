import { CLASS_TITLES } from '../classify.js';
import { clipValue, REPORT_VALUE_BYTES } from '../clip.js';
import type { DiffClass, DiffReport, Difference, EventRef, TimelineEvent, TraceTotals } from '../report-schema.js';

/** Helpers the human-facing renderers share, so Markdown and HTML say the same thing in the same words. */

export function verdictTitle(verdict: DiffReport['verdict']): string {
  return verdict === 'identical' ? 'identical' : verdict === 'equivalent' ? 'equivalent' : 'diverged';
}

export function refText(ref: EventRef | null): string {
  return ref ? `#${ref.index} ${ref.label}` : '—';
}

export function classTitle(cls: DiffClass): string {
  return CLASS_TITLES[cls];
}

/** JSON of a value for people: pretty, with values over ~2 KB replaced by their size and hash. */
export function showValue(value: unknown, maxBytes = REPORT_VALUE_BYTES): string {
  if (value === undefined) return '(absent)';
  return JSON.stringify(clipValue(value, maxBytes), null, 2) ?? 'null';
}

/** The timeline events a difference refers to (present in the report's timeline by construction). */
export function eventsOf(report: DiffReport, diff: Difference): { a: TimelineEvent | null; b: TimelineEvent | null } {
  for (const row of report.timeline) {
    if (row.kind === 'event' && row.differenceIds.includes(diff.id)) return { a: row.a, b: row.b };
  }
  return { a: null, b: null };
}

export interface TotalsLine {
  name: string;
  a: string;
  b: string;
  delta: string;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fmtDelta(a: number, b: number, format: (n: number) => string): string {
  const d = b - a;
  if (d === 0) return '';
  return `${d > 0 ? '+' : '−'}${format(Math.abs(d))}`;
}

const usd = (n: number): string => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 4)}`;
const ms = (n: number): string => `${int.format(n)} ms`;

/** Both runs' totals side by side, with B − A. */
export function totalsLines(a: TraceTotals, b: TraceTotals): TotalsLine[] {
  const num = (name: string, x: number, y: number, f: (n: number) => string = (n) => int.format(n)): TotalsLine => ({
    name,
    a: f(x),
    b: f(y),
    delta: fmtDelta(x, y, f),
  });
  const lines: TotalsLine[] = [
    { name: 'Outcome', a: a.status, b: b.status, delta: a.status === b.status ? '' : 'changed' },
    num('Events', a.events, b.events),
    num('LLM calls', a.llmCalls, b.llmCalls),
    num('Tool calls', a.toolCalls, b.toolCalls),
  ];
  if (a.httpCalls + b.httpCalls > 0) lines.push(num('HTTP calls', a.httpCalls, b.httpCalls));
  lines.push(
    num('Input tokens', a.inputTokens, b.inputTokens),
    num('Output tokens', a.outputTokens, b.outputTokens),
    num('Cost (USD)', a.costUsd, b.costUsd, usd),
  );
  if (a.unpricedCalls + b.unpricedCalls > 0) lines.push(num('Calls without a price', a.unpricedCalls, b.unpricedCalls));
  lines.push(num('Latency (sum)', a.latencyMs, b.latencyMs, ms));
  lines.push({
    name: 'Duration',
    a: a.durationMs === null ? '—' : ms(a.durationMs),
    b: b.durationMs === null ? '—' : ms(b.durationMs),
    delta: a.durationMs === null || b.durationMs === null ? '' : fmtDelta(a.durationMs, b.durationMs, ms),
  });
  return lines;
}

/** "trace-abc (tenant acme)" */
export function traceName(side: DiffReport['a']): string {
  return side.traceId ?? (side.totals.events === 0 ? '(no events)' : '(unnamed trace)');
}
