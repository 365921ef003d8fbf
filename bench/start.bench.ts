/**
 * CLI start and one replay against their physical baselines (issue targets 1 and 2), measured in the same run:
 *   - `node -e 0`: what any Node command costs to start; `retrace --version`, `retrace list` and `retrace show <id>` on
 *     a store of 1,000 traces as ratios of it (lazy imports per command, replay-cli/program.ts);
 *   - the bench agent (bench/agents/ci-agent.mjs, 7 rounds of openai-SDK call + tool ≈ 51 events) run as a plain
 *     `node` script against the instantly answering LLM stub: its own cost incl. Node start and SDK import; one
 *     `retrace replay <id> --fast` of its recording as a ratio of it (target 2), and the same with `--no-prestart`
 *     (the sandbox spawned only when its job is ready, as before src/replay/sandbox/pool.ts);
 *   - the same agent in TypeScript (bench/agents/ci-agent.ts, transpiled by the sandbox, cached by content) replayed
 *     the same way, as a ratio of the JavaScript replay (target 4).
 * Run alone: node --import tsx bench/start.bench.ts (RETRACE_BENCH_NO_BUILD=1 to skip `npm run build`)
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startLlmStub } from '../fixtures/llm-stub/index.js';
import { createRecorder } from '../src/recorder/index.js';
import { openStore } from '../src/store/open-store.js';
import type { NewEvent } from '../src/events/envelope.js';
import type { BenchRow } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'retrace.js');
const TENANT = 'bench';
const TRACES = 1000;
const REPEAT = 7;
const execFileAsync = promisify(execFile);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function timed(file: string, args: readonly string[], env: Record<string, string | undefined> = {}) {
  const t0 = process.hrtime.bigint();
  await execFileAsync(file, [...args], {
    cwd: ROOT,
    env: { ...process.env, RETRACE_STORE: undefined, RETRACE_TENANT: undefined, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function medianOf(n: number, f: () => Promise<number>): Promise<number> {
  await f(); // warm the disk cache
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await f());
  return median(xs);
}

/** A store of TRACES small completed traces (seeded with the library: one batch of events each). */
async function seedStore(url: string): Promise<string> {
  const store = await openStore(url);
  let last = '';
  try {
    for (let i = 0; i < TRACES; i++) {
      last = `tr-start-${String(i).padStart(4, '0')}`;
      const now = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      const events: NewEvent[] = [
        {
          eventId: `00000000-0000-4000-8000-${String(i * 2).padStart(12, '0')}`,
          timestamp: now,
          type: 'agent_started',
          payload: {
            agent: 'start-bench',
            mode: 'api',
            input: { case: i },
            environment: { node: process.version, platform: 'linux', arch: 'x64', retraceVersion: '0.1.0' },
          },
        } as NewEvent,
        {
          eventId: `00000000-0000-4000-8000-${String(i * 2 + 1).padStart(12, '0')}`,
          timestamp: now,
          type: 'agent_completed',
          payload: {
            output: { ok: true },
            totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 1 },
          },
        } as NewEvent,
      ];
      await store.append(TENANT, last, events);
    }
  } finally {
    await store.close();
  }
  return last;
}

export async function run(): Promise<BenchRow[]> {
  if (!(process.env.RETRACE_BENCH_NO_BUILD === '1' && existsSync(join(ROOT, 'dist', 'replay-cli', 'main.js'))))
    spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-start-'));
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  try {
    const listStore = `sqlite:${join(dir, 'list.db')}`;
    const someId = await seedStore(listStore);
    const node = await medianOf(REPEAT, () => timed(process.execPath, ['-e', '0']));
    const version = await medianOf(REPEAT, () => timed(process.execPath, [BIN, '--version']));
    const list = await medianOf(REPEAT, () =>
      timed(process.execPath, [BIN, '--store', listStore, '--tenant', TENANT, 'list']),
    );
    const show = await medianOf(REPEAT, () =>
      timed(process.execPath, [BIN, '--store', listStore, '--tenant', TENANT, 'show', someId]),
    );

    // target 2: the agent's own cost (a plain node script against the stub) vs one `retrace replay --fast` of it
    const input = { baseURL: stub.openaiBaseUrl, apiKey: 'sk-bench-000000000000000000000000', calls: 7, caseId: 'S-1' };
    const script = `import { ciAgent } from ${JSON.stringify(pathToFileURL(join(ROOT, 'bench', 'agents', 'ci-agent.mjs')).href)};
await ciAgent(${JSON.stringify(input)});`;
    const live = await medianOf(REPEAT, () => timed(process.execPath, ['--input-type=module', '-e', script]));
    const replayStore = `sqlite:${join(dir, 'replay.db')}`;
    const agent = (await import(pathToFileURL(join(ROOT, 'bench', 'agents', 'ci-agent.mjs')).href)) as {
      ciAgent: (input: unknown, ctx?: unknown) => Promise<unknown>;
    };
    const recorder = createRecorder({ store: replayStore, tenant: TENANT, providers: [stub.openaiBaseUrl] });
    const { traceId } = await recorder.run(
      { agent: 'ci-bench-agent', entry: 'bench/agents/ci-agent.mjs#ciAgent', input },
      (ctx) => agent.ciAgent(input, ctx),
    );
    // target 4: the same agent as TypeScript, recorded the same way
    const tsAgent = (await import(pathToFileURL(join(ROOT, 'bench', 'agents', 'ci-agent.ts')).href)) as typeof agent;
    const { traceId: tsTraceId } = await recorder.run(
      { agent: 'ci-bench-agent-ts', entry: 'bench/agents/ci-agent.ts#ciAgent', input },
      (ctx) => tsAgent.ciAgent(input, ctx),
    );
    await recorder.close();
    const replayOf = (id: string, ...extra: string[]) =>
      medianOf(REPEAT, () =>
        timed(process.execPath, [
          BIN,
          '--store',
          replayStore,
          '--tenant',
          TENANT,
          'replay',
          id,
          '--fast',
          '--fail-on-diff',
          ...extra,
        ]),
      );
    const replay = await replayOf(traceId);
    const replayFresh = await replayOf(traceId, '--no-prestart');
    const replayTs = await replayOf(tsTraceId);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return [
      { name: 'baseline: `node -e 0` (median of 7)', value: Math.round(node), unit: 'ms' },
      {
        name: '`retrace --version`',
        value: Math.round(version),
        unit: 'ms',
        ratio: r2(version / node),
        target: '≤ 2.5×',
      },
      {
        name: `\`retrace list\`, store of ${TRACES} traces`,
        value: Math.round(list),
        unit: 'ms',
        ratio: r2(list / node),
        target: '≤ 5×',
      },
      {
        name: `\`retrace show <id>\`, store of ${TRACES} traces`,
        value: Math.round(show),
        unit: 'ms',
        ratio: r2(show / node),
        target: '≤ 5×',
      },
      { name: 'baseline: the bench agent run live with node against the stub', value: Math.round(live), unit: 'ms' },
      {
        name: '`retrace replay <id> --fast` of that agent',
        value: Math.round(replay),
        unit: 'ms',
        ratio: r2(replay / live),
        target: '≤ 1.2×',
      },
      {
        name: '  the same with `--no-prestart` (sandbox spawned when the job is ready)',
        value: Math.round(replayFresh),
        unit: 'ms',
        ratio: r2(replayFresh / live),
      },
      {
        name: '`retrace replay <id> --fast` of the same agent in TypeScript (vs the JavaScript replay)',
        value: Math.round(replayTs),
        unit: 'ms',
        ratio: r2(replayTs / replay),
        target: '≤ 1.3×',
      },
    ];
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  const { printTable } = await import('./table.js');
  printTable('start', rows);
}
