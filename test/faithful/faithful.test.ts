import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { replayTrace, type ReplayOptions, type ReplayResult } from '../../src/replay/index.js';
import type { EventStore } from '../../src/store/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { readAll, record, tempStore } from '../replay/helpers.js';
import {
  abortAgent,
  cutAgent,
  deadlineAgent,
  filesAgent,
  heartbeatAgent,
  parallelAgent,
  type FaithfulInput,
} from './agents.js';

/**
 * Faithful replay of what happens between requests: completion order, aborts and cuts, time in flight, files.
 * Each scenario is recorded through the real SDKs against local servers, then replayed several times in a row; every
 * replay must be identical (same events in the same order, same payloads up to ignored fields).
 */
const TENANT = 'acme';
const ENTRY = 'test/faithful/agents.ts';
const SLOW = 600_000;

let stub: LlmStub;
let tools: Server;
let toolsURL: string;
let st: Awaited<ReturnType<typeof tempStore>>;
let store: EventStore;

/** a random permutation of the delays that is not in issue order, so completion order ≠ issue order */
function shuffledDelays(): number[] {
  for (;;) {
    const d = [20, 140, 260, 380].sort(() => Math.random() - 0.5);
    if (d.some((v, i) => i > 0 && v < (d[i - 1] as number))) return d;
  }
}
let delays = shuffledDelays();

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 20 });
  st = await tempStore();
  store = st.store;
  tools = createServer((req, res) => {
    const n = Number(req.url?.split('/').pop());
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ tool: n, delay: delays[n] }));
    }, delays[n] ?? 0);
  });
  await new Promise<void>((r) => tools.listen(0, '127.0.0.1', r));
  const addr = tools.address();
  toolsURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await stub?.close();
  await new Promise((r) => tools?.close(r));
  await st?.cleanup();
});

const input = (extra: Partial<FaithfulInput> = {}): FaithfulInput => ({
  baseURL: stub.openaiBaseUrl,
  apiKey: 'test-key-not-secret',
  toolsURL,
  ...extra,
});

async function rec(name: string, fn: (i: FaithfulInput) => Promise<unknown>, i = input()) {
  const r = await record(store, TENANT, [stub.openaiBaseUrl], name, `${ENTRY}#${name}`, i, fn);
  expect(r.error).toBeUndefined();
  return r.traceId;
}

function replay(traceId: string, options: Partial<ReplayOptions> = {}): Promise<ReplayResult> {
  return replayTrace({ store, tenant: TENANT, traceId, fast: true, timeoutMs: 240_000, ...options });
}

const visible = (events: readonly StoredEvent[]) => events.filter((e) => e.type !== 'nondeterminism');
const order = (events: readonly StoredEvent[]) =>
  visible(events).map((e) => `${e.type}${e.type === 'http_request' ? ` ${e.payload.url.split('/').pop()}` : ''}`);

async function expectIdentical(traceId: string, times: number, options: Partial<ReplayOptions> = {}) {
  const original = await readAll(store, TENANT, traceId);
  for (let k = 0; k < times; k++) {
    const result = await replay(traceId, options);
    expect(result.misses, `replay ${k + 1}`).toEqual([]);
    expect(result.firstDivergence, `replay ${k + 1}`).toBeNull();
    expect(result.verdict, `replay ${k + 1}`).toBe('identical');
    const replayed = await readAll(store, TENANT, result.replayTraceId);
    expect(order(replayed), `replay ${k + 1}`).toEqual(order(original));
  }
  return original;
}

const completed = (events: readonly StoredEvent[]) => {
  const last = events.at(-1);
  return last?.type === 'agent_completed' ? (last.payload.output as Record<string, unknown>) : undefined;
};

describe('completion order', () => {
  it(
    'parallel tool calls over HTTP finish out of issue order; the replay releases them in the recorded order, 10/10',
    async () => {
      delays = shuffledDelays();
      const traceId = await rec('parallelAgent', parallelAgent);
      const original = await readAll(store, TENANT, traceId);
      const out = completed(original) as { finishedOrder: number[] };
      expect(out.finishedOrder).not.toEqual([0, 1, 2, 3]);
      // responses are recorded in completion order, with when each began relative to the run
      const responses = original.filter((e) => e.type === 'http_response');
      expect(responses.every((e) => e.type === 'http_response' && e.payload.startMs !== undefined)).toBe(true);
      await expectIdentical(traceId, 10);
    },
    SLOW,
  );
});

describe('aborts and cuts', () => {
  it(
    'a stream the agent aborts after two chunks replays to the same AbortError branch, then the non-streamed retry',
    async () => {
      const traceId = await rec('abortAgent', abortAgent);
      const original = await readAll(store, TENANT, traceId);
      expect(completed(original)).toMatchObject({ branch: 'aborted', chunks: 2 });
      const cut = original.find((e) => e.type === 'llm_response' && e.payload.interrupted);
      expect(cut?.type === 'llm_response' && cut.payload.interrupted?.by).toBe('client');
      expect(cut?.type === 'llm_response' && cut.payload.error?.name).toBe('AbortError');
      await expectIdentical(traceId, 3);
    },
    SLOW,
  );

  it(
    'a stream the server cuts mid-way replays with an error of the same class at the same chunk',
    async () => {
      const traceId = await rec('cutAgent', cutAgent);
      const original = await readAll(store, TENANT, traceId);
      const out = completed(original) as { seen: number; caught: string };
      expect(out.caught).not.toBe('none');
      const cut = original.find((e) => e.type === 'llm_response' && e.payload.interrupted);
      expect(cut?.type === 'llm_response' && cut.payload.interrupted?.by).toBe('server');
      await expectIdentical(traceId, 3);
    },
    SLOW,
  );
});

describe('time in flight', () => {
  it(
    'a heartbeat interval fires through 250–550 ms LLM waits the same number of times, with and without --fast',
    async () => {
      const traceId = await rec('heartbeatAgent', heartbeatAgent);
      const original = await readAll(store, TENANT, traceId);
      const out = completed(original) as { perStep: number[] };
      // 250–550 ms of wait plus a 150 ms sleep per step, beating every 200 ms
      expect(out.perStep.every((n) => n >= 2)).toBe(true);
      await expectIdentical(traceId, 2, { fast: true });
      await expectIdentical(traceId, 1, { fast: false });
    },
    SLOW,
  );
});

describe('deadlines on the virtual clock', () => {
  it(
    'AbortSignal.timeout fires during a recorded wait as it did when recorded (TimeoutError), and not around a quick one',
    async () => {
      const traceId = await rec('deadlineAgent', deadlineAgent);
      const original = await readAll(store, TENANT, traceId);
      const out = completed(original) as { outcome: string[] };
      expect(out.outcome[0]).toBe('TimeoutError');
      expect(out.outcome[1]).toMatch(/^ok: /);
      await expectIdentical(traceId, 2, { fast: true });
      await expectIdentical(traceId, 1, { fast: false });
    },
    SLOW,
  );
});

describe('files the agent writes', () => {
  const outDir = join('test', 'faithful', '.out', `run-${process.pid}`);
  afterAll(() => rmSync(join('test', 'faithful', '.out'), { recursive: true, force: true }));

  it(
    'notes JSON and report.md are recorded, replayed into an overlay (host untouched), and compared',
    async () => {
      rmSync(outDir, { recursive: true, force: true });
      const traceId = await rec('filesAgent', filesAgent, input({ outDir }));
      const original = await readAll(store, TENANT, traceId);
      const files = original.filter((e) => e.type === 'file_written');
      expect(files.map((e) => e.type === 'file_written' && `${e.payload.op} ${e.payload.path}`)).toEqual([
        `mkdir ${outDir}/notes`,
        `writeFile ${outDir}/notes/notes.json`,
        `appendFile ${outDir}/notes/log.txt`,
        `createWriteStream ${outDir}/report.md`,
      ]);
      expect(completed(original)).toMatchObject({ hadReport: false, log: 'summarised\n' });
      // the host now has the recorded run's output: change it; the replay must neither see nor touch it
      const report = join(outDir, 'report.md');
      writeFileSync(report, 'TAMPERED');
      await expectIdentical(traceId, 3);
      expect(readFileSync(report, 'utf8')).toBe('TAMPERED');
    },
    SLOW,
  );

  it(
    'a mutation that changes the report text diverges on report.md, class file output, with a text diff',
    async () => {
      const dir = join('test', 'faithful', '.out', `mut-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const traceId = await rec('filesAgent', filesAgent, input({ outDir: dir }));
      const result = await replay(traceId, { agent: `${ENTRY}#filesAgentChangedReport` });
      expect(result.verdict).toBe('diverged');
      expect(result.firstDivergence?.message).toContain('report.md');
      const report = result.diffReport as {
        differences: Array<{ class: string; sentence: string; textDiff?: string }>;
      };
      const diff = report.differences.find((d) => d.class === 'file-output');
      expect(diff?.sentence).toContain('report.md');
      expect(diff?.textDiff).toContain('-All checks passed.');
      expect(diff?.textDiff).toContain('+Two checks failed.');
    },
    SLOW,
  );
});

describe('mutations', () => {
  it(
    'reordering two awaits diverges at the first request that changed',
    async () => {
      delays = shuffledDelays();
      const traceId = await rec('parallelAgent', parallelAgent);
      const original = await readAll(store, TENANT, traceId);
      const result = await replay(traceId, { agent: `${ENTRY}#parallelAgentReordered`, onMiss: 'nearest' });
      expect(result.verdict).toBe('diverged');
      const firstRequest = original.find((e) => e.type === 'http_request' && !e.payload.url.endsWith('/1'));
      expect(result.firstDivergence?.originalSeq).toBe(firstRequest?.seq);
    },
    SLOW,
  );
});
