import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { StoredEventSchema } from '../../src/events/envelope.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/** `retrace list` and `retrace show` against a seeded store: tables, --json parsed with schemas, filters, bad ids. */
const TraceSummarySchema = z.strictObject({
  tenantId: z.string(),
  traceId: z.string(),
  agent: z.string().nullable(),
  status: z.enum(['running', 'completed', 'failed', 'incomplete']),
  eventCount: z.number().int(),
  lastSeq: z.number().int(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
  replayOf: z.string().nullable(),
});
const TracePageSchema = z.strictObject({ traces: z.array(TraceSummarySchema), nextCursor: z.string().optional() });

const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };
const recent = Date.now() - 60_000;

beforeAll(async () => {
  await Promise.all([
    ensureBuilt(),
    seed(tmp.url, {
      'support-ok': new TraceBuilder('support', { startMs: Date.UTC(2026, 0, 1) })
        .llm('gpt-4o-mini', 'where is my order?')
        .tool('lookup_order')
        .complete().events,
      'billing-failed': new TraceBuilder('billing', { startMs: Date.UTC(2026, 0, 2) }).llm().fail('card declined')
        .events,
      'billing-recent': new TraceBuilder('billing', { startMs: recent }).llm().complete().events,
    }),
    seed(tmp.url, { 'other-tenant': new TraceBuilder('support').complete().events }, 'team-b'),
  ]);
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace list', () => {
  it('prints a table with the documented columns, newest first', async () => {
    const r = await retrace(['list'], env);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'ID',
      'AGENT',
      'STATUS',
      'EVENTS',
      'TOKENS',
      'COST',
      'STARTED',
      'DURATION',
    ]);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['billing-recent', 'billing-failed', 'support-ok']);
    expect(rows[1]).toMatch(
      /billing-failed\s+billing\s+failed\s+4\s+in 10 \/ out 5\s+\$0\.0001\s+2026-01-02 00:00:00Z\s+3ms/,
    );
    expect(r.stdout).not.toContain('other-tenant');
  });

  it('--json prints the page; --limit pages with nextCursor and --cursor continues', async () => {
    const first = TracePageSchema.parse(JSON.parse((await retrace(['list', '--json', '--limit', '2'], env)).stdout));
    expect(first.traces.map((t) => t.traceId)).toEqual(['billing-recent', 'billing-failed']);
    expect(first.nextCursor).toBeTypeOf('string');
    const r = await retrace(['list', '--json', '--limit', '2', '--cursor', first.nextCursor ?? ''], env);
    const second = TracePageSchema.parse(JSON.parse(r.stdout));
    expect(second.traces.map((t) => t.traceId)).toEqual(['support-ok']);
    expect(second.nextCursor).toBeUndefined();
    const human = await retrace(['list', '--limit', '1', '--agent', 'billing'], env);
    expect(human.stdout).toContain('More traces: retrace list --agent billing --limit 1 --cursor ');
  });

  it('filters by --status, --agent and --since', async () => {
    const ids = async (...args: string[]) =>
      TracePageSchema.parse(JSON.parse((await retrace(['list', '--json', ...args], env)).stdout)).traces.map(
        (t) => t.traceId,
      );
    expect(await ids('--status', 'failed')).toEqual(['billing-failed']);
    expect(await ids('--agent', 'support')).toEqual(['support-ok']);
    expect(await ids('--since', '7d')).toEqual(['billing-recent']);
    expect(await ids('--agent', 'billing', '--status', 'completed')).toEqual(['billing-recent']);
  });

  it('--tenant scopes the listing', async () => {
    const r = await retrace(['list', '--json', '--tenant', 'team-b'], env);
    expect(TracePageSchema.parse(JSON.parse(r.stdout)).traces.map((t) => t.traceId)).toEqual(['other-tenant']);
  });

  it('a bad cursor is an input error', async () => {
    const r = await retrace(['list', '--cursor', 'not-a-cursor'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not one this store issued');
  });
});

describe('retrace show', () => {
  it('prints the timeline: seq, type, name, latency, tokens, cost and a preview', async () => {
    const r = await retrace(['show', 'support-ok'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('trace    support-ok');
    expect(r.stdout).toContain('status   completed');
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.trimStart().startsWith('SEQ'));
    expect(header?.trim().split(/\s{2,}/)).toEqual(['SEQ', 'TYPE', 'NAME', 'LATENCY', 'TOKENS', 'COST', 'PREVIEW']);
    expect(r.stdout).toMatch(/ 1 {2}llm_request +gpt-4o-mini .*user: where is my order\?/);
    expect(r.stdout).toMatch(/ 2 {2}llm_response +gpt-4o-mini +12ms +in 10 \/ out 5 +\$0\.0001 +where is my order\?/);
    expect(r.stdout).toMatch(/ 3 {2}tool_call +lookup_order .*\{"q":"x"\}/);
    expect(r.stdout).toMatch(/ 5 {2}agent_completed .*output \{"answer":"done"\}/);
  });

  it('--json prints the events, each a valid StoredEvent', async () => {
    const r = await retrace(['show', 'billing-failed', '--json'], env);
    expect(r.code).toBe(0);
    const events = z.array(StoredEventSchema).parse(JSON.parse(r.stdout));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, 'agent_started'],
      [1, 'llm_request'],
      [2, 'llm_response'],
      [3, 'agent_failed'],
    ]);
    expect(events.every((e) => e.traceId === 'billing-failed' && e.tenantId === 'default')).toBe(true);
  });

  it("an unknown trace id: exit 2 with the store's message", async () => {
    const r = await retrace(['show', 'no-such-trace'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: No trace "no-such-trace" for tenant "default".');
    expect(r.stdout).toBe('');
  });

  it('a trace of another tenant is not found', async () => {
    const r = await retrace(['show', 'other-tenant'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No trace "other-tenant"');
  });

  it.each(['../../etc/passwd', '..', 'a\\b', '.hidden'])(
    "a path-traversal id %j: exit 2 with the store's message",
    async (id) => {
      const r = await retrace(['show', id], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: Invalid trace id /);
      expect(r.stderr).toContain('→ A trace id is 1–128 characters');
    },
  );
});
