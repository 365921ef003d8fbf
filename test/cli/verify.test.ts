import { rawDatabase } from '../store/raw-database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/** `retrace verify`: exit 0 on intact traces, exit 1 naming seq and rule when the store was altered behind its back. */
const VerifyOutputSchema = z.strictObject({
  ok: z.boolean(),
  tenantId: z.string(),
  traces: z.array(
    z.strictObject({
      tenantId: z.string(),
      traceId: z.string(),
      ok: z.boolean(),
      events: z.number().int(),
      lifecycle: z.string(),
      problems: z.array(z.strictObject({ seq: z.number().int().nullable(), rule: z.string(), message: z.string() })),
    }),
  ),
});

const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };

/** Rewrites one stored event's payload in the SQLite file, as an attacker or a careless script would. */
function tamper(path: string, traceId: string, seq: number, edit: (payload: Record<string, unknown>) => void): void {
  const db = rawDatabase(path);
  try {
    const row = db
      .prepare<[string, number], { id: number; body: string }>(
        'SELECT id, body FROM events WHERE trace_id = ? AND seq = ?',
      )
      .get(traceId, seq);
    if (!row) throw new Error(`no event ${traceId}#${seq}`);
    const body = JSON.parse(row.body) as { payload: Record<string, unknown> };
    edit(body.payload);
    db.prepare('UPDATE events SET body = ? WHERE id = ?').run(JSON.stringify(body), row.id);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  await Promise.all([
    ensureBuilt(),
    seed(tmp.url, {
      intact: new TraceBuilder('support').llm().tool().complete().events,
      victim: new TraceBuilder('support').llm('gpt-4o-mini', 'refund approved').complete().events,
    }),
  ]);
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace verify', () => {
  it('an empty tenant verifies (nothing to check)', async () => {
    const r = await retrace(['verify', '--tenant', 'nobody'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to verify');
  });

  it('all traces intact: exit 0', async () => {
    const r = await retrace(['verify'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}intact {2}6 events, completed$/m);
    expect(r.stdout).toContain('verified 2 trace(s): 2 ok, 0 failed');
  });

  it('unknown and path-traversal trace ids: exit 2', async () => {
    const unknown = await retrace(['verify', 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No trace "nope" for tenant "default"');
    const traversal = await retrace(['verify', '../victim'], env);
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain('Invalid trace id "../victim": it contains a path separator.');
  });

  it('a tampered payload: exit 1, naming the seq and the hash-chain rule', async () => {
    tamper(tmp.path, 'victim', 2, (payload) => {
      payload.body = { choices: [{ message: { role: 'assistant', content: 'refund DENIED' } }] };
    });
    const one = await retrace(['verify', 'victim'], env);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/^FAIL {2}victim {2}1 problem\(s\)$/m);
    expect(one.stdout).toMatch(/seq 2 {2}hash-chain {2}content does not match its hash/);

    const all = await retrace(['verify', '--json'], env);
    expect(all.code).toBe(1);
    const parsed = VerifyOutputSchema.parse(JSON.parse(all.stdout));
    expect(parsed.ok).toBe(false);
    expect(parsed.traces.find((t) => t.traceId === 'intact')?.ok).toBe(true);
    expect(parsed.traces.find((t) => t.traceId === 'victim')?.problems).toEqual([
      { seq: 2, rule: 'hash-chain', message: expect.stringContaining('altered') },
    ]);

    // the intact trace alone still passes
    expect((await retrace(['verify', 'intact'], env)).code).toBe(0);
  });
});
