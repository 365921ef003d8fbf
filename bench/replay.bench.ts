/**
 * Replay speed: (1) serve time per replayed request — the same 200 chat-completion POSTs through global fetch,
 * answered by retrace's replay hooks (the recorder's interception path in replay mode, in process, as inside the
 * sandbox) vs Polly.js in replay mode (fetch adapter, fs persister) in the same run; target ≤ 0.5× Polly.
 * (2) wall time of a full replayTrace of a 200-LLM-call trace recorded through the real openai SDK, sandbox start
 * included; target ≤ 1.5 s.
 * Run alone: node --import tsx bench/replay.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Polly } from '@pollyjs/core';
import FetchAdapter from '@pollyjs/adapter-fetch';
import FSPersister from '@pollyjs/persister-fs';
import { startLlmStub } from '../fixtures/llm-stub/index.js';
import { createRecorder } from '../src/recorder/index.js';
import { buildReplayCache } from '../src/replay/cache/build.js';
import { ReplayCache } from '../src/replay/cache/lookup.js';
import { createReplayHooks } from '../src/replay/hooks.js';
import { replayTrace } from '../src/replay/index.js';
import type { StoredEvent } from '../src/events/envelope.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-store.js';
import { manyCallsAgent } from '../test/replay/agents/many-calls-agent.js';

const CALLS = Number(process.env.RETRACE_BENCH_CALLS ?? 200);
const WARMUP = 30;

function chatBody(i: number): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [
      {
        role: 'system',
        content: `You are a careful support agent. ${'Follow the policy and cite the order number. '.repeat(20)}`,
      },
      { role: 'user', content: 'Where is my order A-1001? It was supposed to arrive last week.' },
      { role: 'assistant', content: 'Let me check that order for you.' },
      { role: 'user', content: `Please hurry, this is message ${i}.` },
    ],
    tools: ['lookup_order', 'refund_order', 'escalate'].map((name) => ({
      type: 'function',
      function: {
        name,
        description: `The ${name} tool.`,
        parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      },
    })),
  });
}

async function timeCalls(url: string, n: number, offset: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const body = chatBody(offset + i);
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-000000000000000000000000' },
      body,
    });
    await res.json();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return samples;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function readAll(store: SqliteEventStore, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) out.push(e);
  return out;
}

export async function run(): Promise<
  Array<{ name: string; value: number; unit: string; target?: string; ratio?: number }>
> {
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-replay-'));
  const url = `${stub.openaiBaseUrl}/chat/completions`;
  const store = new SqliteEventStore(join(dir, 'retrace.db'));
  try {
    // ── record the same POSTs once with retrace and once with Polly, then stop the server: replays are offline
    const recorder = createRecorder({ store, tenant: 'bench', providers: [stub.openaiBaseUrl] });
    const { traceId } = await recorder.run({ agent: 'bench-serve' }, () => timeCalls(url, WARMUP + CALLS, 0));
    const agentInput = { baseURL: stub.openaiBaseUrl, apiKey: 'bench-key', calls: CALLS };
    // the same agent twice: plain JavaScript (the sandbox runs it with no loader) and TypeScript (through tsx)
    const jsAgent = (await import(join(import.meta.dirname, '../test/replay/agents/many-calls-agent.mjs'))) as {
      manyCallsAgent: typeof manyCallsAgent;
    };
    const agentTrace = await recorder.run(
      { agent: 'bench-agent', entry: 'test/replay/agents/many-calls-agent.mjs#manyCallsAgent', input: agentInput },
      () => jsAgent.manyCallsAgent(agentInput),
    );
    const tsAgentTrace = await recorder.run(
      { agent: 'bench-agent-ts', entry: 'test/replay/agents/many-calls-agent.ts#manyCallsAgent', input: agentInput },
      () => manyCallsAgent(agentInput),
    );
    await recorder.close();

    // Polly's published types do not line up with its own register() signature
    Polly.register(FetchAdapter as unknown as Parameters<typeof Polly.register>[0]);
    Polly.register(FSPersister as unknown as Parameters<typeof Polly.register>[0]);
    const pollyOptions = (mode: 'record' | 'replay') =>
      ({
        adapters: ['fetch'],
        persister: 'fs',
        persisterOptions: { fs: { recordingsDir: join(dir, 'polly') } },
        mode,
        recordIfMissing: mode === 'record',
        logLevel: 'silent',
        adapterOptions: { fetch: { context: globalThis } },
        matchRequestsBy: { headers: false, order: false },
      }) as ConstructorParameters<typeof Polly>[1];
    const pollyRec = new Polly('replay-bench', pollyOptions('record'));
    await timeCalls(url, WARMUP + CALLS, 0);
    await pollyRec.stop();
    await stub.close();

    // ── retrace: the recorder in replay mode, answering from the cache (what the sandbox runs)
    const cache = new ReplayCache(buildReplayCache(await readAll(store, 'bench', traceId)));
    const hooks = createReplayHooks({ cache, onMiss: 'error', fast: true, report: () => undefined });
    let seq = 0;
    const sink = {
      async append(_t: string, _id: string, events: readonly unknown[]) {
        const positions = events.map(() => ({ eventId: '', seq: seq++, duplicate: false }));
        return { nextExpectedRevision: seq - 1, positions };
      },
    };
    const replayer = createRecorder({ sink, tenant: 'bench', hooks, providers: [stub.openaiBaseUrl] });
    let served: number[] = [];
    await replayer.run({ agent: 'bench-serve-replay' }, async () => {
      await timeCalls(url, WARMUP, 0);
      served = await timeCalls(url, CALLS, WARMUP);
    });
    await replayer.close();
    if (hooks.misses.length > 0)
      throw new Error(`the replay missed ${hooks.misses.length} requests: ${hooks.misses[0]?.message}`);

    // ── Polly.js replaying the same requests from its recordings
    const pollyRep = new Polly('replay-bench', pollyOptions('replay'));
    await timeCalls(url, WARMUP, 0);
    const pollySamples = await timeCalls(url, CALLS, WARMUP);
    await pollyRep.stop();

    const retraceServe = median(served);
    const pollyServe = median(pollySamples);
    const ratio = Math.round((retraceServe / pollyServe) * 1000) / 1000;

    // ── a full replay of the 200-call agent trace, sandbox start included (the first replay also bundles the runtime)
    const fullReplay = async (id: string): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const result = await replayTrace({ store, tenant: 'bench', traceId: id, fast: true, timeoutMs: 120_000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (result.verdict === 'diverged')
        throw new Error(
          `the benchmark replay diverged: ${result.firstDivergence?.message ?? result.misses[0]?.message}`,
        );
      return ms;
    };
    await fullReplay(agentTrace.traceId);
    const wallMs = median([
      await fullReplay(agentTrace.traceId),
      await fullReplay(agentTrace.traceId),
      await fullReplay(agentTrace.traceId),
    ]);
    const tsWallMs = median([
      await fullReplay(tsAgentTrace.traceId),
      await fullReplay(tsAgentTrace.traceId),
      await fullReplay(tsAgentTrace.traceId),
    ]);

    return [
      {
        name: 'retrace replay: serve time per request (median)',
        value: Math.round(retraceServe),
        unit: 'µs',
        target: '≤ 0.5× Polly',
        ratio,
      },
      { name: 'Polly.js replay: serve time per request (median)', value: Math.round(pollyServe), unit: 'µs' },
      { name: 'retrace / Polly serve time', value: ratio, unit: '×', target: '≤ 0.5×' },
      {
        name: `full replay of a ${CALLS}-LLM-call trace, JS agent (openai SDK, sandbox start included, median of 3)`,
        value: Math.round(wallMs),
        unit: 'ms',
        target: '≤ 1500 ms',
      },
      {
        name: `full replay of a ${CALLS}-LLM-call trace, TypeScript agent via tsx (median of 3)`,
        value: Math.round(tsWallMs),
        unit: 'ms',
      },
    ];
  } finally {
    await stub.close().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows)
    console.log(
      `${r.name.padEnd(80)} ${String(r.value).padStart(8)} ${r.unit}${r.target ? `   target ${r.target}` : ''}`,
    );
}
