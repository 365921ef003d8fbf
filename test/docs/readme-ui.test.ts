import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startUi } from '../inspect/cli-ui.js';
import { recordStore, TENANT, type RecordedStore } from '../inspect/fixture.js';

/** The README Quickstart's `retrace ui` line (the one the demo prints) must start the inspector as written. */
const root = fileURLToPath(new URL('../../', import.meta.url));
let rec: RecordedStore | undefined;
afterAll(async () => {
  await rec?.cleanup();
});

describe('README: the Quickstart inspector command', () => {
  it('starts the inspector over the demo store', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const line = /^node bin\/retrace\.js (.+ ui .*?)\s+#/m.exec(readme)?.[1];
    if (!line) throw new Error('README.md has no `node bin/retrace.js … ui` line');
    const args = line.split(/\s+/);
    expect(args).toEqual(['--store', 'sqlite:.retrace/demo.db', '--tenant', 'demo', 'ui', '--open']);
    const demo = readFileSync(`${root}scripts/demo.ts`, 'utf8');
    expect(demo).toMatch(/--tenant \$\{tenant\} ui --open/);
    // the same command over a store recorded here (the demo's own store is made by `npm run demo`), on a free port
    rec = await recordStore();
    const ui = await startUi([
      ...args.map((a) => (a === 'sqlite:.retrace/demo.db' ? rec!.url : a === 'demo' ? TENANT : a)),
      '--port',
      '0',
    ]);
    try {
      const res = await fetch(`${ui.url}api/traces`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { traces: unknown[] }).traces.length).toBe(2);
    } finally {
      await ui.stop();
    }
  });
});
