import { CLASS_TITLES } from '../classify.js';
import { clipValue, REPORT_VALUE_BYTES } from '../clip.js';
import type { DiffClass, DiffReport, Difference, EventRef, TimelineEvent } from '../report-schema.js';

export { type TotalsLine, totalsLines } from './totals-lines.js';

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

/** "trace-abc (tenant acme)" */
export function traceName(side: DiffReport['a']): string {
  return side.traceId ?? (side.totals.events === 0 ? '(no events)' : '(unnamed trace)');
}
