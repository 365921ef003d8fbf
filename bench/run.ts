/**
 * `npm run bench`: runs every benchmark suite in this folder and prints one table. Each suite measures its own
 * baseline in the same run and reports ratios against it, because absolute times drift on shared machines.
 * Run one suite with `npm run bench -- store` (names: the file stem before `.bench.ts`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { printRows } from './table.js';
import type { BenchRow } from './types.js';

const wanted = new Set(process.argv.slice(2));
const suites = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .filter((name) => wanted.size === 0 || wanted.has(name))
  .sort();

const rows: Array<BenchRow & { suite: string }> = [];
let failed = 0;
for (const suite of suites) {
  process.stderr.write(`running ${suite}…\n`);
  try {
    const mod = (await import(join(import.meta.dirname, `${suite}.bench.ts`))) as { run: () => Promise<BenchRow[]> };
    for (const row of await mod.run()) rows.push({ suite, ...row });
  } catch (err) {
    failed += 1;
    process.stderr.write(
      `benchmark ${suite} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
}
printRows(rows);
process.exitCode = failed > 0 ? 1 : 0;
