import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import type { ReplayResult } from '../../src/replay/replay.js';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../cli/cli-harness.js';
import {
  describe as line,
  readTrace,
  recordHook,
  recordWith,
  replayTimes,
  ROOT,
  scratchDir,
  TENANT,
  typesOf,
} from './harness.js';

/**
 * The corpus (see harness.ts): every scenario is recorded once, in its own child process with its own variables,
 * against the LLM stub (and a shipping API for the axios tool); then the stub and that API are stopped and each trace
 * is replayed three times in a row from this process, which has none of the scenario's variables. The agents import
 * `agent-retrace` (the built copy, dist/) while the replay engine here is the source copy: two copies, one run.
 */
const BIN = join(ROOT, 'bin', 'retrace.js');
let stub: LlmStub;
let shipping: Server;
let dir: string;
let url: string;
const traces = new Map<string, string>();
const replayCwd = new Map<string, string>();

function key(prefix: string): string {
  return `${prefix}-0123456789abcdefghijklmnop`;
}

async function startShipping(): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ parcel: decodeURIComponent(req.url?.split('/').pop() ?? ''), where: 'Lyon hub' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** `retrace record -- <command>` (the built CLI) in `cwd`; the trace id is the one it prints. */
function zeroCode(command: string[], env: Record<string, string>, cwd = ROOT) {
  return recordWith(process.execPath, [BIN, 'record', '--store', url, '--tenant', TENANT, '--', ...command], {
    env,
    cwd,
    traceIdFrom: 'stderr',
  });
}

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('run');
  url = `sqlite:${join(dir, 'corpus.db')}`;
  stub = await startLlmStub();
  shipping = await startShipping();
  const llm = stub.openaiBaseUrl;
  const base = { RETRACE_STORE: url };
  const hook = async (name: string, file: string, env: Record<string, string>) => {
    const r = await recordHook(join('test', 'corpus', 'agents', file), { ...base, ...env });
    traces.set(name, r.traceId);
  };
  const ts = join('test', 'corpus', 'agents', 'ts-script.ts');
  const tsEnv = { SUPPORT_LLM_URL: llm, SUPPORT_LLM_KEY: key('sk-support'), SUPPORT_MODEL: 'gpt-4o-mini' };

  // an npm project whose `agent` script runs the TypeScript agent, and a project that will be cloned elsewhere
  const npmProject = join(dir, 'npm-project');
  const cloneA = join(dir, 'checkout-a', 'support');
  for (const p of [npmProject, cloneA]) {
    mkdirSync(p, { recursive: true });
    cpSync(join(ROOT, ts), join(p, 'agent.ts'));
    writeFileSync(
      join(p, 'package.json'),
      JSON.stringify({ name: 'support-agent', private: true, type: 'module', scripts: { agent: 'tsx agent.ts' } }),
    );
  }

  const jobs: Array<() => Promise<void>> = [
    () => hook('custom base URL from env', 'env-base-url.ts', { LLM_GATEWAY_URL: llm, LLM_GATEWAY_KEY: key('sk-gw') }),
    () =>
      hook('model from env', 'env-model.ts', {
        ASSISTANT_BASE_URL: llm,
        ASSISTANT_API_KEY: key('sk-as'),
        ASSISTANT_MODEL: 'gpt-4o',
        ASSISTANT_TERSE: '1',
      }),
    () => hook('recorder created after the client', 'early-client.ts', { EARLY_LLM_URL: llm }),
    () =>
      hook('Anthropic with an axios tool', 'anthropic-axios.ts', {
        CLAUDE_BASE_URL: stub.anthropicBaseUrl,
        CLAUDE_API_KEY: key('sk-ant'),
        SHIPPING_API_URL: `http://127.0.0.1:${(shipping.address() as AddressInfo).port}`,
      }),
    () =>
      hook('structured output + embeddings', 'structured-embeddings.ts', {
        RAG_LLM_URL: llm,
        RAG_LLM_KEY: key('sk-rag'),
      }),
    () => hook('Vercel AI SDK', 'vercel-ai.ts', { WEATHER_LLM_URL: llm, WEATHER_LLM_KEY: key('sk-weather') }),
    () =>
      hook('LangGraph with a checkpointer', 'langgraph-checkpointer.ts', {
        GRAPH_LLM_URL: llm,
        GRAPH_LLM_KEY: key('sk-graph'),
      }),
    () =>
      hook('LangChain.js', 'langchain-chain.ts', {
        CHAIN_LLM_URL: llm,
        CHAIN_LLM_KEY: key('sk-chain'),
        CHAIN_MODEL: 'gpt-4o-mini',
      }),
    () => hook('OpenAI Agents SDK', 'openai-agents.ts', { TRIAGE_LLM_URL: llm, TRIAGE_LLM_KEY: key('sk-triage') }),
    () =>
      hook('OpenAI Responses API streamed', 'responses-stream.ts', {
        BRIEF_LLM_URL: llm,
        BRIEF_LLM_KEY: key('sk-brief'),
      }),
    async () => {
      const r = await recordHook(join('test', 'corpus', 'agents', 'concurrent.ts'), {
        ...base,
        DESK_LLM_URL: llm,
        DESK_LLM_KEY: key('sk-desk'),
      });
      for (const [i, id] of r.traceId.split(' ').entries()) traces.set(`three concurrent recorder.run (${i + 1})`, id);
    },
    async () =>
      void traces.set('tsx agent.ts', (await zeroCode([join(ROOT, 'node_modules', '.bin', 'tsx'), ts], tsEnv)).traceId),
    async () => void traces.set('npx tsx agent.ts', (await zeroCode(['npx', 'tsx', ts], tsEnv)).traceId),
    async () =>
      void traces.set('node --import tsx agent.ts', (await zeroCode(['node', '--import', 'tsx', ts], tsEnv)).traceId),
    async () => {
      traces.set('npm run agent', (await zeroCode(['npm', 'run', 'agent'], tsEnv, npmProject)).traceId);
      replayCwd.set('npm run agent', npmProject);
    },
    async () => {
      traces.set(
        'golden cloned elsewhere',
        (await zeroCode(['node', '--import', 'tsx', 'agent.ts'], tsEnv, cloneA)).traceId,
      );
    },
  ];
  // two at a time: the machine running CI has two cores
  for (let i = 0; i < jobs.length; i += 2) await Promise.all(jobs.slice(i, i + 2).map((j) => j()));

  // the clone: same project, another directory; the original checkout is gone
  const cloneB = join(dir, 'elsewhere', 'colleague', 'support');
  mkdirSync(join(cloneB, '..'), { recursive: true });
  cpSync(cloneA, cloneB, { recursive: true });
  rmSync(join(dir, 'checkout-a'), { recursive: true, force: true });
  replayCwd.set('golden cloned elsewhere', cloneB);

  // nothing answers any more: every replay below is served from the recordings
  await stub.close();
  await new Promise<void>((r) => shipping.close(() => r()));
}, BUILD_TIMEOUT_MS + 240_000);

/** scenario → the verdicts of its three replays, printed at the end (the closing notes quote this table) */
const verdicts = new Map<string, string[]>();

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (verdicts.size > 0)
    console.log(
      `corpus verdicts (3 replays each):\n${[...verdicts].map(([name, v]) => `  ${name}: ${v.join(', ')}`).join('\n')}`,
    );
});

const SCENARIOS = [
  'custom base URL from env',
  'model from env',
  'recorder created after the client',
  'Anthropic with an axios tool',
  'structured output + embeddings',
  'Vercel AI SDK',
  'LangGraph with a checkpointer',
  'LangChain.js',
  'OpenAI Agents SDK',
  'OpenAI Responses API streamed',
  'three concurrent recorder.run (1)',
  'three concurrent recorder.run (2)',
  'three concurrent recorder.run (3)',
  'tsx agent.ts',
  'npx tsx agent.ts',
  'node --import tsx agent.ts',
  'npm run agent',
  'golden cloned elsewhere',
];

describe('agent corpus: each recording replays identical or equivalent, 3 times in a row, offline', () => {
  it.each(SCENARIOS)(
    '%s',
    async (name) => {
      const traceId = traces.get(name);
      expect(traceId, `no trace recorded for ${name}`).toMatch(/^tr_/);
      const events = await readTrace(url, traceId as string);
      expect(events.at(-1)?.type, `recording of ${name}`).toBe('agent_completed');
      expect(typesOf(events).some((t) => /request$/.test(t))).toBe(true);
      const cwd = replayCwd.get(name);
      const results: ReplayResult[] = await replayTimes(url, traceId as string, 3, cwd ? { cwd } : {});
      verdicts.set(
        name,
        results.map((r) => r.verdict),
      );
      for (const r of results) {
        expect(['identical', 'equivalent'], line(r)).toContain(r.verdict);
        expect(r.outcome, line(r)).toBe('completed');
        expect(r.misses, line(r)).toEqual([]);
      }
    },
    240_000,
  );

  it('records the variables the agent read, credentials as present only, process controls never', async () => {
    const events = await readTrace(url, traces.get('custom base URL from env') as string);
    const reads = Object.assign(
      {},
      ...events.flatMap((e) => (e.type === 'nondeterminism' && e.payload.source === 'env' ? [e.payload.env] : [])),
    ) as Record<string, unknown>;
    expect(reads.LLM_GATEWAY_URL).toEqual({ value: stub.openaiBaseUrl });
    expect(reads.LLM_GATEWAY_KEY).toEqual({ redacted: true });
    expect(JSON.stringify(events)).not.toContain(key('sk-gw'));
    expect(Object.keys(reads).some((n) => /^(NODE_|RETRACE_|PATH$)/.test(n))).toBe(false);
  });
});

describe('agent corpus: a changed agent diverges at the right event with the right class', () => {
  const cases = [
    { entry: 'changedPrompt', kind: 'prompt' },
    { entry: 'changedToolArgument', kind: 'tool' },
    { entry: 'extraLlmCall', kind: 'extra' },
    { entry: 'changedModel', kind: 'model' },
  ] as const;
  it.each(cases)(
    '$entry',
    async ({ entry, kind }) => {
      const traceId = traces.get('custom base URL from env') as string;
      const [r] = await replayTimes(url, traceId, 1, { agent: `test/corpus/agents/changed.ts#${entry}` });
      expect(r?.verdict, line(r as ReplayResult)).toBe('diverged');
      const first = r?.firstDivergence;
      const original = await readTrace(url, traceId);
      const at = original.find((e) => e.seq === first?.originalSeq);
      const firstRequest = original.find((e) => e.type === 'http_request' || e.type === 'llm_request');
      const toolCall = original.find((e) => e.type === 'tool_call');
      const lastResponse = original.filter((e) => e.type === 'http_response' || e.type === 'llm_response').at(-1);
      const message = line(r as ReplayResult);
      if (kind === 'prompt' || kind === 'model') expect(at?.seq, message).toBe(firstRequest?.seq);
      if (kind === 'tool') expect(at?.seq, message).toBe(toolCall?.seq);
      if (kind === 'extra')
        expect(first?.originalSeq ?? Number.POSITIVE_INFINITY, message).toBeGreaterThan(lastResponse?.seq ?? 0);
      const cls = `${first?.class ?? ''} ${first?.message ?? ''} ${first?.path ?? ''}`;
      if (kind === 'prompt') expect(cls, message).toMatch(/prompt|messages|not in the recording/i);
      if (kind === 'model') expect(cls, message).toMatch(/model/i);
      if (kind === 'tool') expect(cls, message).toMatch(/tool/i);
      if (kind === 'extra') expect(cls, message).toMatch(/extra|control|added|not in the recording/i);
    },
    120_000,
  );
});
