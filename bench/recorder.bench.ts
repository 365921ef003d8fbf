/**
 * Recorder overhead per LLM call: the same ~3 KB chat-completion POSTs through global fetch against the local
 * LLM stub, unrecorded vs recorded by retrace (embedded SQLite store, one run per block) vs recorded by Polly.js
 * (@pollyjs/core, fetch adapter, fs persister, mode "record"), all in the same `run()`.
 *
 * Method, because this 2-vCPU machine drifts by hundreds of µs: the stub runs in its own process; each recorder is
 * measured in a fresh child process that first samples a pure baseline (before any recorder code ran), then alternates
 * blocks of baseline calls and recorded calls. "Added per call" = median(recorded) − median(pure baseline), so it
 * includes everything the recorder costs the agent (AsyncLocalStorage, fetch wrapper, hashing, tee, background
 * writes); the interleaved baseline is reported too, to show the drift.
 * Targets: retrace ≤ 150 µs added per call and ≤ 0.25× Polly's added time.
 * Run alone: node --import tsx bench/recorder.bench.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';

const CALLS = Number(process.env.RETRACE_BENCH_CALLS ?? 400);
const BLOCK = 50;
const WARMUP = 50;
const SELF = fileURLToPath(import.meta.url);
const STUB_MAIN = fileURLToPath(new URL('../fixtures/llm-stub/main.ts', import.meta.url));

/** a realistic ~3 KB chat request: system prompt, a few turns, tool definitions */
function chatBody(i: number): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [
      {
        role: 'system',
        content: `You are a careful support agent. ${'Follow the policy and cite the order number. '.repeat(40)}`,
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

async function timeCalls(url: string, n: number, offset: number, into: number[] = []): Promise<number[]> {
  for (let i = 0; i < n; i++) {
    const body = chatBody(offset + i);
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-000000000000000000000000' },
      body,
    });
    await res.json();
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return into;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

interface PhaseResult {
  pure: number;
  interleavedBase: number;
  mode: number;
}

/** child process: pure baseline, then alternating baseline / recorded blocks */
async function phase(which: 'retrace' | 'polly', openaiBaseUrl: string, dir: string): Promise<PhaseResult> {
  const url = `${openaiBaseUrl}/chat/completions`;
  await timeCalls(url, WARMUP, 0);
  const pure = await timeCalls(url, CALLS, 0);
  const base: number[] = [];
  const mode: number[] = [];
  if (which === 'retrace') {
    const { createRecorder } = await import('../src/recorder/index.js');
    const { SqliteEventStore } = await import('../src/store/sqlite/sqlite-store.js');
    const store = new SqliteEventStore(join(dir, 'retrace.db'));
    const recorder = createRecorder({
      store,
      providers: [openaiBaseUrl],
      ...(process.env.RETRACE_BENCH_FLUSH_MS ? { flushIntervalMs: Number(process.env.RETRACE_BENCH_FLUSH_MS) } : {}),
    });
    await recorder.run({ agent: 'bench-warmup' }, () => timeCalls(url, WARMUP, 0));
    for (let done = 0; done < CALLS; done += BLOCK) {
      await timeCalls(url, BLOCK, done, base);
      const { traceId } = await recorder.run({ agent: 'bench' }, () => timeCalls(url, BLOCK, done, mode));
      const summary = await store.summary('default', traceId);
      if (summary?.eventCount !== 2 * BLOCK + 2)
        throw new Error(`expected ${2 * BLOCK + 2} events, the trace has ${summary?.eventCount}`);
    }
    await recorder.close();
    await store.close();
  } else {
    const { Polly } = await import('@pollyjs/core');
    const FetchAdapter = (await import('@pollyjs/adapter-fetch')).default;
    const FSPersister = (await import('@pollyjs/persister-fs')).default;
    // the packages' .d.ts default exports do not line up with Polly.register's Newable type under NodeNext
    Polly.register(FetchAdapter as never);
    Polly.register(FSPersister as never);
    const options = {
      adapters: ['fetch'],
      persister: 'fs',
      persisterOptions: { fs: { recordingsDir: join(dir, 'polly') } },
      mode: 'record',
      logLevel: 'silent',
      adapterOptions: { fetch: { context: globalThis } },
    } as ConstructorParameters<typeof Polly>[1];
    const warm = new Polly('warmup', options);
    await timeCalls(url, WARMUP, 0);
    await warm.stop();
    for (let done = 0; done < CALLS; done += BLOCK) {
      await timeCalls(url, BLOCK, done, base);
      const polly = new Polly(`block-${done}`, options);
      await timeCalls(url, BLOCK, done, mode);
      await polly.stop();
    }
  }
  return { pure: median(pure), interleavedBase: median(base), mode: median(mode) };
}

function runChild(which: 'retrace' | 'polly', openaiBaseUrl: string, dir: string): PhaseResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--phase', which, openaiBaseUrl, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as PhaseResult;
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

export async function run(): Promise<BenchRow[]> {
  const stub = await startStubProcess();
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-rec-'));
  try {
    const retrace = runChild('retrace', stub.openaiBaseUrl, dir);
    const polly = runChild('polly', stub.openaiBaseUrl, dir);
    const retraceAdded = Math.max(0, retrace.mode - retrace.pure);
    const pollyAdded = Math.max(0, polly.mode - polly.pure);
    const ratio = pollyAdded > 0 ? Math.round((retraceAdded / pollyAdded) * 1000) / 1000 : Number.NaN;
    return [
      {
        name: 'unrecorded call, pure baseline (median)',
        value: Math.round((retrace.pure + polly.pure) / 2),
        unit: 'µs',
      },
      { name: 'retrace recorded call (median)', value: Math.round(retrace.mode), unit: 'µs' },
      { name: 'retrace added per LLM call', value: Math.round(retraceAdded), unit: 'µs', target: '≤ 150 µs', ratio },
      { name: '  (vs interleaved baseline)', value: Math.round(retrace.mode - retrace.interleavedBase), unit: 'µs' },
      { name: 'Polly.js recorded call (median)', value: Math.round(polly.mode), unit: 'µs' },
      { name: 'Polly.js added per LLM call', value: Math.round(pollyAdded), unit: 'µs' },
      { name: '  (vs interleaved baseline)', value: Math.round(polly.mode - polly.interleavedBase), unit: 'µs' },
      { name: 'retrace / Polly added time', value: ratio, unit: '×', target: '≤ 0.25×' },
    ];
  } finally {
    stub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv;
if (argv[2] === '--phase') {
  const result = await phase(argv[3] as 'retrace' | 'polly', argv[4] ?? '', argv[5] ?? '');
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  for (const r of await run())
    console.log(
      `${r.name.padEnd(42)} ${String(r.value).padStart(8)} ${r.unit}${r.target ? `   target ${r.target}` : ''}`,
    );
}
