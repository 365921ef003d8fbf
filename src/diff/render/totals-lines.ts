import type { TraceTotals } from '../report-schema.js';

/**
 * The totals table both runs share, B − A per line. Kept free of Node imports: the report page (ui/src/report.tsx)
 * bundles it for the browser, so Markdown, the HTML report and the inspector say the same thing in the same words.
 */

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
