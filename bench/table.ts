import type { BenchRow } from './types.js';

export type SuiteRow = BenchRow & { suite: string };

/**
 * Whether a row meets its target, read from the target text: each comma-separated part is `≤ N` / `≥ N` with an
 * optional `k` and a unit. A part in `×` compares the ratio (or the value, when the row itself is a ratio); any other
 * part compares the value in the row's own unit. `undefined` when the row has no target or the text says no number.
 */
export function targetMet(row: BenchRow): boolean | undefined {
  if (!row.target) return undefined;
  let verdict: boolean | undefined;
  for (const part of row.target.split(',')) {
    const m = /(≤|≥|<=|>=)\s*([\d.]+)\s*(k?)\s*(\S*)/.exec(part);
    if (!m) continue;
    const limit = Number(m[2]) * (m[3] === 'k' ? 1000 : 1);
    const onRatio = (m[4] ?? '').startsWith('×');
    const actual = onRatio ? (row.unit === '×' ? row.value : row.ratio) : row.value;
    if (actual === undefined || !Number.isFinite(limit)) continue;
    const ok = m[1] === '≤' || m[1] === '<=' ? actual <= limit : actual >= limit;
    verdict = (verdict ?? true) && ok;
  }
  return verdict;
}

/** One markdown table for any number of suites (pasteable into docs/benchmarks.md). */
export function printRows(rows: readonly SuiteRow[]): void {
  const header = ['suite', 'measure', 'value', 'unit', 'ratio vs baseline', 'target', 'met'];
  const body = rows.map((r) => {
    const met = targetMet(r);
    return [
      r.suite,
      r.name,
      String(r.value),
      r.unit,
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
      r.target ?? '',
      met === undefined ? '' : met ? 'yes' : 'no',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

export function printTable(suite: string, rows: readonly BenchRow[]): void {
  printRows(rows.map((r) => ({ suite, ...r })));
}
