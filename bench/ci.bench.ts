/**
 * `retrace ci` speed: the built CLI over 100 golden traces of ~50 events each, `--concurrency 2 --fast`:
 * wall time and per-trace median. The goldens are real: a small JavaScript agent (bench/agents/ci-agent.mjs, 7 rounds
 * of openai-SDK call + tool) recorded 100 times against the LLM stub, then written as NDJSON exactly as
 * `retrace export` writes them (the same writer, in process, to save 100 CLI starts).
 * Baselines measured in the same run: a no-op CLI start (`retrace --version`), one `retrace replay --fast` of a
 * golden (a whole CLI process for one trace), so the ratios say what `ci` costs per trace against doing it by hand,
 * and the agent's own live runs (a plain `node` script against the instantly answering stub, incl. Node start and
 * SDK import): RETRACE_BENCH_CI_LIVE of them (default 10) run one after another, their median × the golden count is
 * the "sum of the live runs" that issue 17's target 3 compares `ci` with (RETRACE_BENCH_CI_LIVE=100: all of them,
 * summed). RETRACE_BENCH_CI_NO_PRESTART=1 also times `ci --no-prestart` (no pre-started sandboxes) in the same run.
 * Run alone: node --import tsx bench/ci.bench.ts   (RETRACE_BENCH_CI_TRACES=N for another count;
 * RETRACE_BENCH_NO_BUILD=1 to skip `npm run build` when dist/ is current)
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startLlmStub } from '../fixtures/llm-stub/index.js';
import { CiResultSchema } from '../replay-cli/ci/report.js';
import { writeNdjsonFile } from '../src/transfer/ndjson.js';
import { createRecorder } from '../src/recorder/index.js';
import { openStore } from '../src/store/open-store.js';
import type { BenchRow } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'retrace.js');
const TRACES = Number(process.env.RETRACE_BENCH_CI_TRACES ?? 100);
// ~7 events a round: llm_request, llm_response, tool_call, tool_response and the SDK's Date.now / Math.random values
const ROUNDS = 7;
const CONCURRENCY = 2;
const TENANT = 'bench';
const ENTRY = 'bench/agents/ci-agent.mjs#ciAgent';
const execFileAsync = promisify(execFile);
const LIVE = Math.max(1, Math.min(TRACES, Number(process.env.RETRACE_BENCH_CI_LIVE ?? 10)));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Runs the built CLI; returns wall ms and stdout; throws with its stderr when the exit code is not `expect`. */
async function cli(args: readonly string[], expect = 0): Promise<{ ms: number; stdout: string }> {
  const t0 = process.hrtime.bigint();
  let code = 0;
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, RETRACE_STORE: undefined, GITHUB_STEP_SUMMARY: undefined },
      maxBuffer: 256 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    code = e.code;
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? '';
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== expect) throw new Error(`retrace ${args.join(' ')} exited ${code}:\n${stderr}`);
  return { ms, stdout };
}

function buildCli(): void {
  if (process.env.RETRACE_BENCH_NO_BUILD === '1' && existsSync(join(ROOT, 'dist', 'replay-cli', 'main.js'))) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  // tsc still emits when files elsewhere (worked on concurrently) have type errors; the CLI just has to exist
  if (!existsSync(join(ROOT, 'dist', 'replay-cli', 'main.js')))
    throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

/** Records TRACES runs of the bench agent against the stub, then writes each as a golden NDJSON file. */
async function makeGoldens(storeUrl: string, goldens: string): Promise<{ ids: string[]; events: number[] }> {
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  const agent = (await import(pathToFileURL(join(ROOT, 'bench', 'agents', 'ci-agent.mjs')).href)) as {
    ciAgent: (input: unknown, ctx?: unknown) => Promise<unknown>;
  };
  const ids: string[] = [];
  try {
    const recorder = createRecorder({ store: storeUrl, tenant: TENANT, providers: [stub.openaiBaseUrl] });
    for (let i = 0; i < TRACES; i++) {
      const input = {
        baseURL: stub.openaiBaseUrl,
        apiKey: 'sk-bench-000000000000000000000000',
        calls: ROUNDS,
        caseId: `K-${i}`,
      };
      const { traceId } = await recorder.run({ agent: 'ci-bench-agent', entry: ENTRY, input }, (ctx) =>
        agent.ciAgent(input, ctx),
      );
      ids.push(traceId);
    }
    await recorder.close();
  } finally {
    await stub.close();
  }
  mkdirSync(goldens, { recursive: true });
  const store = await openStore(storeUrl);
  const events: number[] = [];
  try {
    for (const id of ids) events.push(await writeNdjsonFile(join(goldens, `${id}.ndjson`), store.read(TENANT, id)));
  } finally {
    await store.close();
  }
  return { ids, events };
}

/** The bench agent run live by plain node against the stub, with the inputs of goldens 0..n-1; each run's wall ms. */
async function liveRuns(n: number): Promise<number[]> {
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  const agentUrl = pathToFileURL(join(ROOT, 'bench', 'agents', 'ci-agent.mjs')).href;
  const out: number[] = [];
  try {
    for (let i = -1; i < n; i++) {
      const input = {
        baseURL: stub.openaiBaseUrl,
        apiKey: 'sk-bench-000000000000000000000000',
        calls: ROUNDS,
        caseId: `K-${Math.max(i, 0)}`,
      };
      const script = `import { ciAgent } from ${JSON.stringify(agentUrl)};\nawait ciAgent(${JSON.stringify(input)});`;
      const t0 = process.hrtime.bigint();
      await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
      if (i >= 0) out.push(Number(process.hrtime.bigint() - t0) / 1e6); // i = -1: a warm-up (disk cache)
    }
  } finally {
    await stub.close();
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  buildCli();
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-ci-'));
  try {
    const recorded = `sqlite:${join(dir, 'recorded.db')}`;
    const goldens = join(dir, 'goldens');
    const { ids, events } = await makeGoldens(recorded, goldens);
    const first = ids[0]!;
    const g = ['--tenant', TENANT];

    // ── baselines, same run: a CLI start that does nothing, and one golden replayed by hand through `retrace replay`
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) starts.push((await cli(['--version'])).ms);
    await cli(['--store', recorded, ...g, 'replay', first, '--fast', '--fail-on-diff']); // warm-up (disk cache)
    const singles: number[] = [];
    for (let i = 0; i < 3; i++)
      singles.push((await cli(['--store', recorded, ...g, 'replay', first, '--fast', '--fail-on-diff'])).ms);
    const startMs = median(starts);
    const singleMs = median(singles);
    const lives = await liveRuns(LIVE);
    const liveSum = LIVE === TRACES ? lives.reduce((a, b) => a + b, 0) : median(lives) * TRACES;

    // ── ci --dry-run: read and validate every golden file (schema, seq order, hash chain), no store
    const dry: number[] = [];
    for (let i = 0; i < 3; i++)
      dry.push(
        (await cli(['--store', `sqlite:${join(dir, 'unused.db')}`, ...g, 'ci', goldens, '--dry-run', '--json'])).ms,
      );
    const dryMs = median(dry);

    // ── the measured run: a fresh store, so the import of all goldens is part of it, as on a CI machine
    const ciRun = (store: string, ...extra: string[]) =>
      cli([
        '--store',
        `sqlite:${join(dir, store)}`,
        ...g,
        'ci',
        goldens,
        '--concurrency',
        String(CONCURRENCY),
        '--fast',
        '--json',
        ...extra,
      ]);
    const ci = await ciRun('ci.db');
    const fresh =
      process.env.RETRACE_BENCH_CI_NO_PRESTART === '1' ? await ciRun('ci-fresh.db', '--no-prestart') : undefined;
    const result = CiResultSchema.parse(JSON.parse(ci.stdout));
    if (result.status !== 'passed' || result.traces.length !== TRACES) {
      const bad = result.traces.find((t) => t.verdict === 'diverged' || t.verdict === 'error');
      throw new Error(
        `the benchmark ci run did not pass: ${JSON.stringify(result.counts)} ${bad?.firstDivergence ?? bad?.error?.message ?? ''}`,
      );
    }
    const perTrace = median(result.traces.map((t) => t.durationMs));
    const meanEvents = Math.round(events.reduce((a, b) => a + b, 0) / events.length);
    const r2 = (x: number) => Math.round(x * 100) / 100;

    const liveName =
      LIVE === TRACES
        ? `baseline: the sum of ${TRACES} live runs of the agent (node against the stub, one after another)`
        : `baseline: the sum of ${TRACES} live runs of the agent (median of ${LIVE} sequential node runs × ${TRACES})`;
    return [
      {
        name: `ci vs the sum of the ${TRACES} live runs (target 3)`,
        value: Math.round(ci.ms),
        unit: 'ms',
        ratio: r2(ci.ms / liveSum),
        target: '≤ 0.6×',
      },
      { name: liveName, value: Math.round(liveSum), unit: 'ms' },
      ...(fresh
        ? [
            {
              name: '  ci --no-prestart (no pre-started sandboxes), same goldens',
              value: Math.round(fresh.ms),
              unit: 'ms',
              ratio: r2(fresh.ms / liveSum),
            },
          ]
        : []),
      {
        name: `ci: ${TRACES} goldens × ${meanEvents} events, --concurrency ${CONCURRENCY} --fast: wall time (fresh store, import included)`,
        value: Math.round(ci.ms),
        unit: 'ms',
        ratio: r2(ci.ms / (TRACES * singleMs)),
      },
      {
        name: 'ci: wall time per golden',
        value: Math.round(ci.ms / TRACES),
        unit: 'ms',
        ratio: r2(ci.ms / TRACES / singleMs),
      },
      {
        name: `ci: per-trace replay time (median, ${CONCURRENCY} at once)`,
        value: Math.round(perTrace),
        unit: 'ms',
        ratio: r2(perTrace / singleMs),
      },
      {
        name: `ci --dry-run: read + validate ${TRACES} golden files`,
        value: Math.round(dryMs),
        unit: 'ms',
        ratio: r2(dryMs / startMs),
      },
      {
        name: 'baseline: `retrace replay <golden> --fast`, one CLI process (median of 3)',
        value: Math.round(singleMs),
        unit: 'ms',
      },
      { name: 'baseline: `retrace --version`, CLI start (median of 5)', value: Math.round(startMs), unit: 'ms' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  const { printTable } = await import('./table.js');
  printTable('ci', rows);
}
