import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { compareReplay, replayTrace, replayTraces, type ReplayResult } from '../../src/replay/index.js';
import { startSandbox, type StartedSandbox } from '../../src/replay/sandbox/launch.js';
import type { SandboxSource } from '../../src/replay/sandbox/pool.js';
import type { EventStore } from '../../src/store/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { determinismAgent } from '../replay/agents/determinism-agent.js';
import { manyCallsAgent } from '../replay/agents/many-calls-agent.js';
import { readAll, record, tempStore } from '../replay/helpers.js';
import {
  abortAgent,
  cutAgent,
  deadlineAgent,
  envAgent,
  filesAgent,
  heartbeatAgent,
  parallelAgent,
  type FaithfulInput,
} from './agents.js';

/**
 * The pre-started sandbox is a speed-up, never a change of what a replay is: every scenario here (the faithful ones —
 * completion order, aborts, cuts, time in flight, deadlines, files, environment reads — and the replay suite's
 * determinism and many-call agents, JavaScript and TypeScript) is replayed with a sandbox spawned for the job when it
 * is ready (prestart: false, the way replay worked before), through a batch's pool (each next trace's sandbox starts
 * while the previous one replays), and with a sandbox that has been waiting, loaded, before its job arrives. All three
 * must give the same verdict, the same misses and the same replay events (compared with the replay comparison itself,
 * which sets aside ids, timestamps and latencies).
 */
const TENANT = 'prestart';
const SLOW = 600_000;
const FAITHFUL = 'test/faithful/agents.ts';

let stub: LlmStub;
let tools: Server;
let toolsURL: string;
let st: Awaited<ReturnType<typeof tempStore>>;
let store: EventStore;
const traces: Array<{ name: string; traceId: string }> = [];
const outDir = join('test', 'faithful', '.out', `prestart-${process.pid}`);

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 20 });
  st = await tempStore();
  store = st.store;
  tools = createServer((req, res) => {
    const n = Number(req.url?.split('/').pop());
    const delay = [260, 20, 380, 140][n] ?? 0;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ tool: n, delay }));
    }, delay);
  });
  await new Promise<void>((r) => tools.listen(0, '127.0.0.1', r));
  const addr = tools.address();
  toolsURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const input = (extra: Partial<FaithfulInput> = {}): FaithfulInput => ({
    baseURL: stub.openaiBaseUrl,
    apiKey: 'test-key-not-secret',
    toolsURL,
    ...extra,
  });
  const scenarios: Array<[string, string, unknown, (i: never, ctx: never) => Promise<unknown>]> = [
    ['parallelAgent', `${FAITHFUL}#parallelAgent`, input(), parallelAgent as never],
    ['abortAgent', `${FAITHFUL}#abortAgent`, input(), abortAgent as never],
    ['cutAgent', `${FAITHFUL}#cutAgent`, input(), cutAgent as never],
    ['heartbeatAgent', `${FAITHFUL}#heartbeatAgent`, input(), heartbeatAgent as never],
    ['deadlineAgent', `${FAITHFUL}#deadlineAgent`, input(), deadlineAgent as never],
    ['filesAgent', `${FAITHFUL}#filesAgent`, input({ outDir }), filesAgent as never],
    ['envAgent', `${FAITHFUL}#envAgent`, input(), envAgent as never],
    [
      'determinismAgent',
      'test/replay/agents/determinism-agent.ts#determinismAgent',
      { baseURL: stub.openaiBaseUrl, apiKey: 'test-key-not-secret' },
      determinismAgent as never,
    ],
    [
      'manyCallsAgent.mjs',
      'test/replay/agents/many-calls-agent.mjs#manyCallsAgent',
      { baseURL: stub.openaiBaseUrl, apiKey: 'test-key-not-secret', calls: 5 },
      manyCallsAgent as never,
    ],
    [
      'manyCallsAgent.ts',
      'test/replay/agents/many-calls-agent.ts#manyCallsAgent',
      { baseURL: stub.openaiBaseUrl, apiKey: 'test-key-not-secret', calls: 5 },
      manyCallsAgent as never,
    ],
  ];
  process.env.PRESTART_TEST_MODEL = 'gpt-4o-mini';
  process.env.PRESTART_TEST_TONE = 'brief';
  try {
    for (const [name, entry, i, fn] of scenarios) {
      const r = await record(store, TENANT, [stub.openaiBaseUrl], name, entry, i as never, fn);
      expect(r.error, name).toBeUndefined();
      traces.push({ name, traceId: r.traceId });
    }
  } finally {
    delete process.env.PRESTART_TEST_MODEL;
    delete process.env.PRESTART_TEST_TONE;
  }
  // replays are offline: nothing recorded may be reachable
  await stub.close();
  await new Promise((r) => tools.close(r));
}, SLOW);

afterAll(async () => {
  rmSync(outDir, { recursive: true, force: true });
  await st?.cleanup();
});

/** a source whose sandbox has been started and left waiting (loaded) well before it is handed out */
const waited: SandboxSource = {
  async take(spec): Promise<StartedSandbox> {
    const sandbox = await startSandbox(spec);
    await new Promise((r) => setTimeout(r, 1_000));
    return sandbox;
  },
};

interface Replayed {
  verdict: string;
  misses: unknown[];
  outcome: string;
  output: unknown;
  events: StoredEvent[];
}

async function replayed(r: ReplayResult): Promise<Replayed> {
  return {
    verdict: r.verdict,
    misses: r.misses,
    outcome: r.outcome,
    output: r.output,
    events: await readAll(store, TENANT, r.replayTraceId),
  };
}

async function expectSame(name: string, a: Replayed, b: Replayed): Promise<void> {
  expect(b.verdict, name).toBe(a.verdict);
  expect(b.misses, name).toEqual(a.misses);
  expect(b.outcome, name).toBe(a.outcome);
  expect(b.output, name).toEqual(a.output);
  expect(
    b.events.map((e) => e.type),
    name,
  ).toEqual(a.events.map((e) => e.type));
  const same = await compareReplay(a.events, b.events);
  expect(same.firstDivergence?.message ?? null, name).toBeNull();
  expect(same.verdict, name).toBe('identical');
}

describe('pre-started and fresh sandboxes replay the same', () => {
  it(
    'every scenario: the same verdict and the same replay events, fresh vs pool vs a waiting sandbox',
    async () => {
      const ids = traces.map((t) => t.traceId);
      const common = { store, tenant: TENANT, fast: true, timeoutMs: 240_000, concurrency: 1, traceIds: ids };
      const fresh = await replayTraces({ ...common, prestart: false });
      const pooled = await replayTraces({ ...common, prestart: true });
      for (const [k, t] of traces.entries()) {
        const f = fresh[k]!;
        const p = pooled[k]!;
        expect(f.status, t.name).toBe('replayed');
        expect(p.status, t.name).toBe('replayed');
        if (f.status !== 'replayed' || p.status !== 'replayed') continue;
        // an unchanged agent replays identical (or equivalent: only ignored fields differ) either way
        expect(['identical', 'equivalent'], t.name).toContain(f.result.verdict);
        const a = await replayed(f.result);
        await expectSame(`${t.name} (pool)`, a, await replayed(p.result));
        const w = await replayTrace({ store, tenant: TENANT, traceId: t.traceId, fast: true, sandboxes: waited });
        await expectSame(`${t.name} (waiting sandbox)`, a, await replayed(w));
      }
    },
    SLOW,
  );

  it(
    'a changed agent diverges the same way (the same first divergence) with either sandbox',
    async () => {
      const t = traces.find((x) => x.name === 'filesAgent')!;
      const options = {
        store,
        tenant: TENANT,
        traceId: t.traceId,
        fast: true,
        agent: `${FAITHFUL}#filesAgentChangedReport`,
      };
      const fresh = await replayTrace({ ...options, prestart: false });
      const pre = await replayTrace({ ...options, sandboxes: waited });
      expect(fresh.verdict).toBe('diverged');
      expect(pre.verdict).toBe('diverged');
      expect(pre.firstDivergence).toEqual(fresh.firstDivergence);
      await expectSame('filesAgentChangedReport', await replayed(fresh), await replayed(pre));
    },
    SLOW,
  );
});
