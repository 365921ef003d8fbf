import type { BenchRow } from './types.js';

export type SuiteRow = BenchRow & { suite: string };

/** One markdown table for any number of suites (pasteable into docs/benchmarks.md). */
export function printRows(rows: readonly SuiteRow[]): void {
  const header = ['suite', 'measure', 'value', 'unit', 'ratio vs baseline', 'target'];
  const body = rows.map((r) => [
    r.suite,
    r.name,
    String(r.value),
    r.unit,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

export function printTable(suite: string, rows: readonly BenchRow[]): void {
  printRows(rows.map((r) => ({ suite, ...r })));
}
