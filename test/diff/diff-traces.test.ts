import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrossTenantDiffError,
  DiffPolicyError,
  DiffReportSchema,
  diffTraces,
  loadPolicyFile,
  renderHtml,
  renderMarkdown,
  type DiffReport,
} from '../../src/diff/index.js';
import { TraceNotFoundError } from '../../src/errors.js';
import type { NewEvent, StoredEvent } from '../../src/events/envelope.js';
import { openStore } from '../../src/store/open-store.js';
import type { EventStore } from '../../src/store/types.js';
import { FIXTURE_PAIRS, StoredTraceBuilder, supportRun } from './fixtures.js';

function pair(name: string): [StoredEvent[], StoredEvent[]] {
  const make = FIXTURE_PAIRS[name];
  if (!make) throw new Error(`no fixture ${name}`);
  return make();
}

async function* asAsync(events: StoredEvent[]): AsyncGenerator<StoredEvent> {
  for (const e of events) yield e;
}

function classes(r: DiffReport): string[] {
  return r.differences.map((d) => d.class);
}

describe('diffTraces: verdicts and classification', () => {
  it('identical runs (only per-trace ids differ) are identical', async () => {
    const r = await diffTraces(...pair('identical'));
    expect(r.verdict).toBe('identical');
    expect(r.differences).toEqual([]);
    expect(r.firstDivergence).toBeNull();
    expect(DiffReportSchema.safeParse(r).success).toBe(true);
  });

  it('runs that differ only in timestamps, latencies, provider ids and host are equivalent', async () => {
    const r = await diffTraces(...pair('only-timestamps'));
    expect(r.verdict).toBe('equivalent');
    expect(r.timeline.some((row) => row.kind === 'event' && row.status === 'equivalent')).toBe(true);
  });

  it("timing 'same' (a replay comparison): runs differing only in timing are identical, other ignored fields still equivalent", async () => {
    const [a, b] = pair('only-timestamps');
    // only-timestamps also differs in provider ids and host: those are still "equivalent"
    expect((await diffTraces(a, b, { timing: 'same' })).verdict).toBe('equivalent');
    // the same run shifted in time, with other latencies: only timestamps, latencies and durations differ
    const shifted = a.map((e) => {
      const p = e.payload as Record<string, unknown>;
      const payload: Record<string, unknown> = { ...p };
      if (typeof p.latencyMs === 'number') payload.latencyMs = p.latencyMs + 17;
      if (typeof p.totals === 'object' && p.totals !== null) payload.totals = { ...p.totals, durationMs: 99_999 };
      return { ...e, timestamp: new Date(Date.parse(e.timestamp) + 3_600_000).toISOString(), payload } as typeof e;
    });
    expect((await diffTraces(a, shifted)).verdict).toBe('equivalent');
    const r = await diffTraces(a, shifted, { timing: 'same' });
    expect(r.verdict).toBe('identical');
    expect(r.policy).toContain('timing differences');
    // timing 'same' hides timing only: a changed prompt still diverges
    const [c, d] = pair('prompt-changed');
    expect((await diffTraces(c, d, { timing: 'same' })).verdict).toBe('diverged');
  });

  it('a changed prompt is prompt drift, and the first divergence says where', async () => {
    const r = await diffTraces(...pair('prompt-changed'));
    expect(r.verdict).toBe('diverged');
    expect(classes(r)).toEqual(['input-change', 'prompt-drift', 'prompt-drift']);
    const drift = r.differences[1];
    expect(drift?.paths).toEqual(['messages[1].content']);
    expect(drift?.sentence).toBe(
      'the llm_request to gpt-4o-mini has a different prompt (messages[1].content: "How do I reset my password?" → "How do I change my password?")',
    );
    expect(r.firstDivergence?.sentence).toMatch(/^Event #0: the agent_started event has a different input/);
  });

  it('an inserted tool call is one insertion per event; later events stay aligned', async () => {
    const r = await diffTraces(...pair('tool-call-inserted'));
    expect(r.differences.map((d) => [d.class, d.change])).toEqual([
      ['control-flow-change', 'added'],
      ['control-flow-change', 'added'],
      ['prompt-drift', 'changed'],
    ]);
    expect(r.firstDivergence).toMatchObject({
      a: null,
      b: { index: 6, type: 'tool_call', label: 'tool_call fetch_page' },
    });
    // the final llm_request (A #6, B #8) is paired, and its prompt differs by exactly one added message
    expect(r.differences[2]?.patch).toHaveLength(1);
    expect(r.differences[2]?.patch[0]).toMatchObject({ op: 'add', path: '/payload/body/messages/4' });
    const completed = r.timeline.find((row) => row.kind === 'event' && row.a?.type === 'agent_completed');
    // equivalent, not same: B's completion comes two events (20 ms) later
    expect(completed).toMatchObject({ status: 'equivalent', a: { index: 8 }, b: { index: 10 } });
  });

  it('changed tool arguments are tool-argument drift', async () => {
    const r = await diffTraces(...pair('tool-args-changed'));
    const d = r.differences.find((x) => x.class === 'tool-argument-drift');
    expect(d?.sentence).toBe(
      'the tool_call to search has different arguments (args.query: "reset password" → "password reset")',
    );
  });

  it('completed vs failed is an error change naming the error', async () => {
    const r = await diffTraces(...pair('failed-vs-completed'));
    const d = r.differences.find((x) => x.class === 'error-change');
    expect(d?.sentence).toBe('run A completed but run B failed (RateLimitError: 429 Too Many Requests)');
    expect(r.b.totals.status).toBe('failed');
  });

  it('different lengths and an empty trace are reported as missing/extra events', async () => {
    const longer = await diffTraces(...pair('different-lengths'));
    expect(longer.differences.filter((d) => d.change === 'added')).toHaveLength(4);
    const empty = await diffTraces(...pair('one-empty'));
    expect(empty.differences.every((d) => d.change === 'removed')).toBe(true);
    expect(empty.b.totals.status).toBe('empty');
    const both = await diffTraces([], []);
    expect(both.verdict).toBe('identical');
  });

  it('reordered calls are one "moved" control-flow change each', async () => {
    const build = (id: string, order: string[]): StoredEvent[] => {
      const t = new StoredTraceBuilder(id);
      t.add('agent_started', {
        agent: 'x',
        input: null,
        environment: { node: 'v20', platform: 'linux', arch: 'x64', retraceVersion: '0.1.0' },
      });
      for (const tool of order) {
        t.add('tool_call', { tool, args: {}, argsHash: 'h', occurrence: 0 });
        t.add('tool_response', { tool, result: tool, latencyMs: 1 }, { parent: true });
      }
      t.add('agent_completed', {
        output: 1,
        totals: { llmCalls: 0, toolCalls: 2, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 1 },
      });
      return t.events;
    };
    const r = await diffTraces(build('a', ['search', 'fetch']), build('b', ['fetch', 'search']));
    expect(r.verdict).toBe('diverged');
    expect(r.differences.every((d) => d.class === 'control-flow-change' && d.change === 'moved')).toBe(true);
    expect(r.differences[0]?.sentence).toMatch(/moved: it is event #\d+ in one run and #\d+ in the other/);
  });

  it('a model change pairs the two calls and is a model/parameter change', async () => {
    const a = supportRun({ traceId: 'a' });
    const b = supportRun({ traceId: 'b' }).map((e) => {
      if (e.type !== 'llm_request' || e.seq !== 2) return e;
      return {
        ...e,
        payload: {
          ...e.payload,
          model: 'gpt-4o',
          body: { ...(e.payload.body as object), model: 'gpt-4o', temperature: 0.7 },
        },
      };
    });
    const r = await diffTraces(a, b);
    expect(r.differences).toHaveLength(1);
    expect(r.differences[0]).toMatchObject({
      class: 'model-parameter-change',
      change: 'changed',
      paths: ['model', 'temperature'],
    });
  });

  it('accepts async iterables and labels', async () => {
    const [a, b] = pair('prompt-changed');
    const r = await diffTraces(asAsync(a), asAsync(b), { labels: { a: 'recorded', b: 'replay' } });
    expect(r.a.label).toBe('recorded');
    expect(renderMarkdown(r)).toContain('Run recorded');
  });
});

describe('diffTraces: policies', () => {
  it('`exact` for a type compares its timestamps too', async () => {
    const r = await diffTraces(...pair('only-timestamps'), { policy: { types: { agent_completed: 'exact' } } });
    expect(r.verdict).toBe('diverged');
    expect(r.differences.map((d) => d.class)).toEqual(['output-change', 'metadata-change']);
    expect(r.differences.map((d) => d.paths)).toEqual([['totals.durationMs'], ['timestamp']]);
  });

  it('`ignore` leaves a type out; ignorePaths with * silence a field in every array item', async () => {
    const [a, b] = pair('tool-args-changed');
    const r = await diffTraces(a, b, {
      policy: {
        ignorePaths: ['payload.args.query'],
        types: {
          llm_response: 'ignore',
          llm_request: { ignorePaths: ['/payload/body/messages/*/tool_calls'] },
        },
      },
    });
    expect(r.verdict).toBe('equivalent');
    expect(r.a.ignoredEvents).toBe(3); // nondeterminism + 2 llm_response
  });

  it('nondeterminism events are not compared by default, but `defaults: false` compares them', async () => {
    const [a, b] = pair('only-timestamps');
    const r = await diffTraces(a, b, { policy: { defaults: false } });
    expect(r.verdict).toBe('diverged');
    expect(r.differences.some((d) => d.a?.type === 'nondeterminism')).toBe(true);
  });

  it('loads a policy file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-diff-'));
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ version: 1, types: { agent_started: { ignorePaths: ['payload.input'] } } }));
    expect(loadPolicyFile(file).types?.agent_started).toEqual({ ignorePaths: ['payload.input'] });
    const r = await diffTraces(...pair('prompt-changed'), { policyFile: file });
    expect(r.differences.map((d) => d.class)).toEqual(['prompt-drift', 'prompt-drift']);
  });

  it('a malformed policy file is a DiffPolicyError naming the bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-diff-'));
    const cases: [unknown, string, RegExp][] = [
      [{ types: { llm_reqest: 'exact' } }, 'types.llm_reqest', /unknown event type "llm_reqest"/],
      [{ types: { llm_request: 'exactly' } }, 'types.llm_request', /expected "exact", "ignore"/],
      [{ types: { tool_call: { ignorePaths: [''] } } }, 'types.tool_call.ignorePaths[0]', /not usable: it is empty/],
      [{ ignorePaths: 'payload.x' }, 'ignorePaths', /expected array/],
      [{ ignorPaths: [] }, 'ignorPaths', /unknown field "ignorPaths"/],
    ];
    for (const [policy, field, message] of cases) {
      const file = join(dir, 'p.json');
      writeFileSync(file, JSON.stringify(policy));
      const err = await diffTraces([], [], { policyFile: file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DiffPolicyError);
      expect((err as DiffPolicyError).field).toBe(field);
      expect((err as DiffPolicyError).message).toMatch(message);
      expect((err as DiffPolicyError).message).toContain(file);
      expect((err as DiffPolicyError).code).toBe('INVALID_DIFF_POLICY');
    }
    writeFileSync(join(dir, 'bad.json'), '{ "types": ');
    await expect(diffTraces([], [], { policyFile: join(dir, 'bad.json') })).rejects.toThrow(/not valid JSON/);
    await expect(diffTraces([], [], { policyFile: join(dir, 'missing.json') })).rejects.toThrow(
      /Cannot read the diff policy file/,
    );
  });
});

describe('diffTraces: stored traces and bad input', () => {
  let store: EventStore;
  const toNew = (events: StoredEvent[]): NewEvent[] =>
    events.map(
      (e) =>
        ({
          eventId: e.eventId,
          timestamp: e.timestamp,
          type: e.type,
          payload: e.payload,
          ...(e.parentEventId ? { parentEventId: e.parentEventId } : {}),
        }) as NewEvent,
    );

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-diff-store-'));
    mkdirSync(dir, { recursive: true });
    store = await openStore(`sqlite:${join(dir, 'diff.db')}`);
    const [a, b] = pair('tool-call-inserted');
    await store.append('acme', 'run-a', toNew(a));
    await store.append('acme', 'run-b', toNew(b));
    await store.append('other', 'run-c', toNew(supportRun({ traceId: 'run-c', tenantId: 'other' })));
  });
  afterAll(async () => {
    await store.close();
  });

  it('diffs two stored traces by id', async () => {
    const r = await diffTraces(
      { store, tenantId: 'acme', traceId: 'run-a' },
      { store, tenantId: 'acme', traceId: 'run-b' },
    );
    expect(r.a.traceId).toBe('run-a');
    expect(r.differences.map((d) => d.change)).toEqual(['added', 'added', 'changed']);
  });

  it('a trace that does not exist is TraceNotFoundError', async () => {
    await expect(
      diffTraces({ store, tenantId: 'acme', traceId: 'run-a' }, { store, tenantId: 'acme', traceId: 'nope' }),
    ).rejects.toBeInstanceOf(TraceNotFoundError);
  });

  it('traces of different tenants are refused, stored or given as events', async () => {
    const err = await diffTraces(
      { store, tenantId: 'acme', traceId: 'run-a' },
      { store, tenantId: 'other', traceId: 'run-c' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrossTenantDiffError);
    expect((err as CrossTenantDiffError).hint).toMatch(/within one tenant/);
    await expect(
      diffTraces(supportRun({ traceId: 'x' }), supportRun({ traceId: 'y', tenantId: 'other' })),
    ).rejects.toBeInstanceOf(CrossTenantDiffError);
    await expect(
      diffTraces({ store, tenantId: 'acme', traceId: 'run-a' }, supportRun({ traceId: 'y', tenantId: 'other' })),
    ).rejects.toBeInstanceOf(CrossTenantDiffError);
  });

  it('rejects a bad option value with a clear error', async () => {
    await expect(diffTraces([], [], { context: -1 })).rejects.toThrow(/context must be a whole number/);
  });
});

describe('diffTraces: large inputs', () => {
  it('a 5 MB tool result is truncated in Markdown and HTML with its size and hash', async () => {
    const big = { rows: 'x'.repeat(5 * 1024 * 1024) };
    const a = supportRun({ traceId: 'a', searchResult: big });
    const b = supportRun({ traceId: 'b', searchResult: { rows: 'y'.repeat(5 * 1024 * 1024) } });
    const r = await diffTraces(a, b);
    expect(r.verdict).toBe('diverged');
    const md = renderMarkdown(r);
    const html = renderHtml(r);
    expect(md.length).toBeLessThan(40_000);
    expect(html.length).toBeLessThan(200_000);
    expect(md).toMatch(/\[truncated: 5\.0 MB, sha256 [0-9a-f]{12}\]/);
    expect(html).toMatch(/\[truncated: 5\.0 MB, sha256 [0-9a-f]{12}\]/);
  });

  it('long traces fold unchanged stretches into gap rows around the differences', async () => {
    const build = (id: string, changeAt: number): StoredEvent[] => {
      const t = new StoredTraceBuilder(id);
      for (let i = 0; i < 1000; i++)
        t.add('decision_made', { decision: 'step', data: { i, v: i === changeAt ? 'changed' : 'same' } });
      return t.events;
    };
    const r = await diffTraces(build('a', -1), build('b', 500), { context: 2 });
    expect(r.differences).toHaveLength(1);
    expect(r.timeline.map((row) => (row.kind === 'gap' ? `gap ${row.count}` : row.status))).toEqual([
      'gap 498',
      'same',
      'same',
      'changed',
      'same',
      'same',
      'gap 497',
    ]);
  });

  it('past the edit cap the alignment degrades to positional pairing and says so', async () => {
    const build = (id: string, names: string[]): StoredEvent[] => {
      const t = new StoredTraceBuilder(id);
      for (const n of names) t.add('tool_call', { tool: n, args: {}, argsHash: 'h', occurrence: 0 });
      return t.events;
    };
    const a = build(
      'a',
      Array.from({ length: 50 }, (_, i) => `t${i}`),
    );
    const b = build(
      'b',
      Array.from({ length: 50 }, (_, i) => `u${i}`),
    );
    const r = await diffTraces(a, b, { maxEdits: 5 });
    expect(r.alignment).toBe('positional');
    expect(r.verdict).toBe('diverged');
  });
});
