/**
 * Recorder overhead per LLM call (issue 3): the same chat-completion POSTs through global fetch against the local LLM
 * stub, measured in one process: unrecorded, recorded by retrace (into the embedded SQLite store, inside one run), and
 * recorded by Polly.js (@pollyjs/core, fetch adapter, fs persister, mode "record"). Added time per call = median of
 * the mode minus median of the unrecorded baseline (baseline sampled between the phases so drift cancels out).
 * Targets: retrace ≤ 150 µs added per call and ≤ 0.25× Polly's added time.
 * Run alone: node --import tsx bench/recorder.bench.ts
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
import { SqliteEventStore } from '../src/store/sqlite/sqlite-store.js';
import type { BenchRow } from './types.js';

const CALLS = Number(process.env.RETRACE_BENCH_CALLS ?? 200);
const WARMUP = 30;

/** a realistic ~3 KB chat request: system prompt, a few turns, tool definitions */
function chatBody(i: number): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [
      { role: 'system', content: `You are a careful support agent. ${'Follow the policy and cite the order number. '.repeat(20)}` },
      { role: 'user', content: 'Where is my order A-1001? It was supposed to arrive last week.' },
      { role: 'assistant', content: 'Let me check that order for you.' },
      { role: 'user', content: `Please hurry, this is message ${i}.` },
    ],
    tools: ['lookup_order', 'refund_order', 'escalate'].map((name) => ({
      type: 'function',
      function: { name, description: `The ${name} tool.`, parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } },
    })),
  });
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

async function timeCalls(url: string, n: number, offset: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const body = chatBody(offset + i);
    const t0 = nowNs();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-000000000000000000000000' }, body });
    await res.json();
    samples.push(Number(nowNs() - t0) / 1000);
  }
  return samples;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export async function run(): Promise<BenchRow[]> {
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-rec-'));
  const url = `${stub.openaiBaseUrl}/chat/completions`;
  const baseline: number[] = [];
  try {
    await timeCalls(url, WARMUP, 0);
    baseline.push(...(await timeCalls(url, CALLS, 0)));

    // retrace, recording into the embedded store
    const store = new SqliteEventStore(join(dir, 'retrace.db'));
    const recorder = createRecorder({ store, providers: [stub.openaiBaseUrl] });
    let recorded: number[] = [];
    await recorder.run({ agent: 'bench-warmup' }, () => timeCalls(url, WARMUP, 0));
    const { traceId } = await recorder.run({ agent: 'bench' }, async () => {
      recorded = await timeCalls(url, CALLS, 0);
    });
    const summary = await store.summary('default', traceId);
    if (summary?.eventCount !== 2 * CALLS + 2) throw new Error(`expected ${2 * CALLS + 2} events, the trace has ${summary?.eventCount}`);
    await recorder.close();
    await store.close();

    baseline.push(...(await timeCalls(url, CALLS, 0)));

    // Polly.js, recording through its fetch adapter into its fs persister
    Polly.register(FetchAdapter);
    Polly.register(FSPersister);
    const polly = new Polly('recorder-bench', {
      adapters: ['fetch'],
      persister: 'fs',
      persisterOptions: { fs: { recordingsDir: join(dir, 'polly') } },
      mode: 'record',
      recordIfMissing: true,
      logLevel: 'silent',
      adapterOptions: { fetch: { context: globalThis } },
    } as ConstructorParameters<typeof Polly>[1]);
    await timeCalls(url, WARMUP, CALLS);
    const pollySamples = await timeCalls(url, CALLS, 0);
    await polly.stop();

    baseline.push(...(await timeCalls(url, CALLS, 0)));

    const base = median(baseline);
    const retraceAdded = Math.max(0, median(recorded) - base);
    const pollyAdded = Math.max(0, median(pollySamples) - base);
    const ratio = pollyAdded > 0 ? retraceAdded / pollyAdded : Number.NaN;
    return [
      { name: 'unrecorded call (median)', value: Math.round(base), unit: 'µs' },
      { name: 'retrace added per LLM call (median)', value: Math.round(retraceAdded), unit: 'µs', target: '≤ 150 µs', ratio: Math.round(ratio * 1000) / 1000 },
      { name: 'Polly.js added per LLM call (median)', value: Math.round(pollyAdded), unit: 'µs' },
      { name: 'retrace / Polly added time', value: Math.round(ratio * 1000) / 1000, unit: '×', target: '≤ 0.25×' },
    ];
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(40)} ${String(r.value).padStart(8)} ${r.unit}${r.target ? `   target ${r.target}` : ''}`);
}
