/**
 * Event-loop pauses caused by recording (issue 17, target 6): a realistic agent loop — per step one chat completion
 * through the real openai SDK to the local LLM stub (own process, ~3 KB request), one recorded tool call and a short
 * timer ("think time") — measured with perf_hooks.monitorEventLoopDelay (1 ms resolution) with the recorder off and
 * on, in the same child process, in alternating blocks so drift on this shared 2-core machine hits both alike.
 *
 * One child process per way of giving the recorder its store:
 *   url     createRecorder({ store: 'sqlite:PATH' }) — the recorder opens the store itself (the README's default path)
 *   object  createRecorder({ store: new SqliteEventStore(PATH) }) — a store object the caller opened and owns
 *   sink    (opt-in, RETRACE_BENCH_LOOP_MODES=sink) a sink that discards every batch: what the capture alone adds
 * "Added p99" = p99(on) − p99(off); target ≤ 1 ms. Max delay is reported too (one pause is what a user notices).
 * Run alone: node --import tsx bench/loop-delay.bench.ts  (env: RETRACE_BENCH_LOOP_BLOCKS, RETRACE_BENCH_LOOP_BLOCK_MS,
 * RETRACE_BENCH_LOOP_MODES=url,object, and RETRACE_BENCH_FLUSH_MS / RETRACE_BENCH_BATCH for the recorder's batching)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';

const BLOCKS = Number(process.env.RETRACE_BENCH_LOOP_BLOCKS ?? 4);
const BLOCK_MS = Number(process.env.RETRACE_BENCH_LOOP_BLOCK_MS ?? 1500);
const WARMUP_MS = 500;
const THINK_MS = 2;
const SELF = fileURLToPath(import.meta.url);
const STUB_MAIN = fileURLToPath(new URL('../fixtures/llm-stub/main.ts', import.meta.url));

type Mode = 'url' | 'object' | 'sink';

interface Side {
  p99: number;
  max: number;
  steps: number;
}

interface ModeResult {
  off: Side;
  on: Side;
  events: number;
}

const SYSTEM = `You are a careful support agent. ${'Follow the policy and cite the order number. '.repeat(40)}`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

/** child process: the same agent loop in alternating off / on blocks, one histogram per side */
async function phase(mode: Mode, openaiBaseUrl: string, dir: string): Promise<ModeResult> {
  const { default: OpenAI } = await import('openai');
  const { createRecorder } = await import('../src/recorder/index.js');
  const { SqliteEventStore } = await import('../src/store/sqlite/sqlite-store.js');
  const path = join(dir, `loop-${mode}.db`);
  const ownStore = mode === 'object' ? new SqliteEventStore(path) : undefined;
  let revision = -1;
  // the capture alone, writing nowhere: the floor any writer adds to
  const discard = {
    append: async (_t: string, _id: string, events: readonly unknown[]) => {
      revision += events.length;
      return { nextExpectedRevision: revision, positions: [] };
    },
  };
  const recorder = createRecorder({
    ...(mode === 'sink' ? { sink: discard } : { store: ownStore ?? `sqlite:${path}` }),
    providers: [openaiBaseUrl],
    ...(process.env.RETRACE_BENCH_FLUSH_MS ? { flushIntervalMs: Number(process.env.RETRACE_BENCH_FLUSH_MS) } : {}),
    ...(process.env.RETRACE_BENCH_BATCH ? { maxBatchEvents: Number(process.env.RETRACE_BENCH_BATCH) } : {}),
  });
  const client = new OpenAI({ baseURL: openaiBaseUrl, apiKey: 'sk-bench-000000000000000000000000', maxRetries: 0 });
  const lookup = recorder.tool('lookup_order', async (args: { id: string; words: number }) => {
    await sleep(THINK_MS);
    return { id: args.id, status: args.words % 2 === 0 ? 'open' : 'closed' };
  });

  /** the agent: steps until `forMs` elapsed; returns how many */
  async function agent(forMs: number): Promise<number> {
    const until = performance.now() + forMs;
    let steps = 0;
    let status = 'none';
    while (performance.now() < until) {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: `Where is order A-${1000 + steps}? Last status: ${status}.` },
        ],
      });
      const text = r.choices[0]?.message.content ?? '';
      status = (await lookup({ id: `A-${1000 + steps}`, words: text.split(/\s+/).length })).status;
      await sleep(THINK_MS);
      steps++;
    }
    return steps;
  }

  const histograms: Record<'off' | 'on', IntervalHistogram> = {
    off: monitorEventLoopDelay({ resolution: 1 }),
    on: monitorEventLoopDelay({ resolution: 1 }),
  };
  // re-enabling a histogram records the disabled gap as one sample: harmless to p99 (one of thousands), fatal to the
  // max, which therefore comes from a fresh monitor per block
  const max = { off: 0, on: 0 };
  const steps = { off: 0, on: 0 };
  const traces: string[] = [];
  // warm both paths (JIT, the SDK, the store file, the writer) before anything is measured
  await agent(WARMUP_MS);
  traces.push((await recorder.run({ agent: 'loop-warmup' }, () => agent(WARMUP_MS))).traceId);
  for (let b = 0; b < BLOCKS; b++) {
    for (const side of b % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const block = monitorEventLoopDelay({ resolution: 1 });
      block.enable();
      histograms[side].enable();
      if (side === 'off') steps.off += await agent(BLOCK_MS);
      else {
        // the block ends when run() resolves: every event durable, as a real caller would wait for
        const { output, traceId } = await recorder.run({ agent: 'loop' }, () => agent(BLOCK_MS));
        steps.on += output;
        traces.push(traceId);
      }
      histograms[side].disable();
      block.disable();
      max[side] = Math.max(max[side], block.max);
    }
  }
  const side = (s: 'off' | 'on'): Side => ({
    p99: ms(histograms[s].percentile(99)),
    max: ms(max[s]),
    steps: steps[s],
  });
  await recorder.close();
  if (mode === 'sink') return { off: side('off'), on: side('on'), events: revision + 1 };
  // every block really was recorded, to the end
  const { openStore } = await import('../src/store/open-store.js');
  const check = ownStore ?? (await openStore(`sqlite:${path}`));
  let events = 0;
  for (const traceId of traces) {
    const s = await check.summary('default', traceId);
    if (s?.status !== 'completed') throw new Error(`trace ${traceId} is ${s?.status ?? 'missing'}, not completed`);
    events += s.eventCount;
  }
  await check.close();
  return { off: side('off'), on: side('on'), events };
}

function runChild(mode: Mode, openaiBaseUrl: string, dir: string): ModeResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--phase', mode, openaiBaseUrl, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as ModeResult;
}

async function startStubProcess(): Promise<{ openaiBaseUrl: string; stop(): void }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', STUB_MAIN, '--chunk-delay-ms', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const openaiBaseUrl = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(buf.slice(0, nl)) as { openaiBaseUrl: string }).openaiBaseUrl);
    });
    proc.on('exit', (code) => reject(new Error(`the stub exited (${code})`)));
  });
  return { openaiBaseUrl, stop: () => proc.kill('SIGTERM') };
}

const LABEL: Record<Mode, string> = {
  url: 'store URL (recorder opens it)',
  object: 'store object (caller opens it)',
  sink: 'no-op sink (capture only)',
};

function rows(mode: Mode, r: ModeResult): BenchRow[] {
  const label = LABEL[mode];
  const added = Math.round((r.on.p99 - r.off.p99) * 100) / 100;
  const ratio = r.off.p99 > 0 ? Math.round((r.on.p99 / r.off.p99) * 100) / 100 : Number.NaN;
  return [
    { name: `${label}: p99 loop delay, recorder off`, value: r.off.p99, unit: 'ms' },
    { name: `${label}: p99 loop delay, recorder on`, value: r.on.p99, unit: 'ms', ratio },
    { name: `${label}: added p99 loop delay`, value: added, unit: 'ms', target: '≤ 1 ms' },
    { name: `${label}: max loop delay, recorder off`, value: r.off.max, unit: 'ms' },
    { name: `${label}: max loop delay, recorder on`, value: r.on.max, unit: 'ms' },
    { name: `${label}: agent steps, recorder off`, value: r.off.steps, unit: 'steps' },
    { name: `${label}: agent steps, recorder on (${r.events} events)`, value: r.on.steps, unit: 'steps' },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const stub = await startStubProcess();
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-loop-'));
  try {
    const modes = (process.env.RETRACE_BENCH_LOOP_MODES ?? 'url,object').split(',') as Mode[];
    return modes.flatMap((mode) => rows(mode, runChild(mode, stub.openaiBaseUrl, dir)));
  } finally {
    stub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv;
if (argv[2] === '--phase') {
  const result = await phase(argv[3] as Mode, argv[4] ?? '', argv[5] ?? '');
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  for (const r of await run())
    console.log(
      `${r.name.padEnd(64)} ${String(r.value).padStart(8)} ${r.unit}${r.ratio !== undefined ? `  ${r.ratio}×` : ''}${r.target ? `   target ${r.target}` : ''}`,
    );
}
