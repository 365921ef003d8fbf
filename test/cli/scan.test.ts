import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanResultSchema } from '../../replay-cli/commands/scan.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { SHAPED } from '../secrets/corpus.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/**
 * `retrace scan` on a store: traces seeded with the library's append (no recorder, so no redaction) stand for a store
 * written by an older version or by hand; the CLI must find what is secret-shaped in them and exit 1.
 */
const tmp = tempStore();

beforeAll(async () => {
  await Promise.all([
    ensureBuilt(),
    seed(tmp.url, {
      clean: new TraceBuilder('support').llm('gpt-4o-mini', 'where is my order?').tool('lookup_order').complete()
        .events,
      leaky: new TraceBuilder('billing', { input: { note: `use ${SHAPED.sendgrid.value}` } })
        .tool('deploy', { password: 'hunter2-hunter2', region: 'eu' }, { token: SHAPED.githubFine.value })
        .complete().events,
    }),
  ]);
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace scan', () => {
  it('a clean trace exits 0; a leaky one exits 1 with seq, path, shape and a masked preview', async () => {
    const clean = await retrace(['--store', tmp.url, 'scan', 'clean']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('clean: 0 secret-shaped value(s)');
    const leaky = await retrace(['--store', tmp.url, '--json', 'scan', 'leaky']);
    expect(leaky.code).toBe(1);
    const result = ScanResultSchema.parse(JSON.parse(leaky.stdout));
    expect(result.findings.map((f) => [f.seq, f.path, f.shape])).toEqual([
      [0, '/payload/input/note', 'sendgrid'],
      [1, '/payload/args/password', 'secret-field'],
      [2, '/payload/result/token', 'secret-field'],
    ]);
    expect(leaky.stdout).not.toContain(SHAPED.sendgrid.value);
    expect(leaky.stdout).not.toContain('hunter2-hunter2');
    const all = await retrace(['--store', tmp.url, 'scan', '--all']);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('3 secret-shaped value(s)');
    expect(all.stdout).toContain('of 2 trace(s)');
  });

  it('usage errors exit 2: no source, two sources, an unknown trace', async () => {
    expect((await retrace(['--store', tmp.url, 'scan'])).code).toBe(2);
    expect((await retrace(['--store', tmp.url, 'scan', 'clean', '--all'])).code).toBe(2);
    const unknown = await retrace(['--store', tmp.url, 'scan', 'no-such-trace']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no-such-trace');
  });
});
