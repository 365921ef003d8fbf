import { spawn } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import type { NewEvent } from '../../src/events/envelope.js';
import { createRecorder, type EventSink } from '../../src/recorder/index.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import type { AppendOptions, AppendResult } from '../../src/store/types.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * Durability without slowing the agent: batched appends that continue each other's revision, run() resolving only
 * once everything is durable, exit-time flushes, and a SIGKILLed writer leaving an `incomplete` trace.
 */
const CHILD = new URL('./children/durability-child.ts', import.meta.url).pathname;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function store() {
  const t = tempStore();
  cleanups.push(t.cleanup);
  return t;
}

class SpySink implements EventSink {
  calls: Array<{ count: number; expected: AppendOptions['expectedRevision']; next: number; types: string[] }> = [];
  gate: Promise<void> = Promise.resolve();
  constructor(private readonly inner: SqliteEventStore) {}
  async append(
    tenant: string,
    traceId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    await this.gate;
    const r = await this.inner.append(tenant, traceId, events, options);
    this.calls.push({
      count: events.length,
      expected: options?.expectedRevision,
      next: r.nextExpectedRevision,
      types: events.map((e) => e.type),
    });
    return r;
  }
}

describe('batched writes', () => {
  test('events are written in batches, each append continuing the previous revision; run() resolves when durable', async () => {
    const t = store();
    const sink = new SpySink(t.store);
    const recorder = createRecorder({ sink, captureHttp: false, flushIntervalMs: 5 });
    const tool = recorder.tool('t', async (n: number) => n + 1);
    const { traceId } = await recorder.run({ agent: 'batches' }, async (ctx) => {
      for (let i = 0; i < 30; i++) await tool(i); // 60 events queued back to back
      await new Promise((r) => setTimeout(r, 30)); // a flush happens in between
      for (let i = 0; i < 10; i++) ctx.event('decision_made', { decision: `d${i}` });
      return 'done';
    });
    // durable at resolution: the terminal event is already in the store
    expect(await t.store.summary('default', traceId)).toMatchObject({ status: 'completed', eventCount: 72 });
    expect(sink.calls.length).toBeGreaterThanOrEqual(2);
    expect(sink.calls.length).toBeLessThan(72 / 2);
    expect(sink.calls[0]?.expected).toBe('no_stream');
    for (let i = 1; i < sink.calls.length; i++) expect(sink.calls[i]?.expected).toBe(sink.calls[i - 1]?.next);
    expect(sink.calls.reduce((n, c) => n + c.count, 0)).toBe(72);
    await recorder.close();
  });

  test('a slow store never blocks the agent: the agent finishes while the first write is still held', async () => {
    const t = store();
    const sink = new SpySink(t.store);
    let open!: () => void;
    sink.gate = new Promise<void>((r) => (open = r));
    const recorder = createRecorder({ sink, captureHttp: false, flushIntervalMs: 1, maxBatchEvents: 4 });
    const tool = recorder.tool('t', async (n: number) => n * 2);
    let agentDone = false;
    const running = recorder.run({ agent: 'slow-store' }, async () => {
      for (let i = 0; i < 20; i++) await tool(i);
      agentDone = true;
      return 'ok';
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(agentDone).toBe(true);
    expect(sink.calls).toHaveLength(0); // nothing written yet: the store is "slow"
    let resolved = false;
    void running.then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false); // run() waits for durability
    open();
    const { traceId, output } = await running;
    expect(output).toBe('ok');
    expect(await t.store.summary('default', traceId)).toMatchObject({ status: 'completed', eventCount: 42 });
    await recorder.close();
  });

  test('a failing store does not fail the agent: the output comes back with recordingError', async () => {
    const warnings: unknown[] = [];
    const recorder = createRecorder({
      sink: {
        append: async () => {
          throw new Error('disk full');
        },
      },
      captureHttp: false,
      onWriteError: (err) => warnings.push(err),
    });
    const result = await recorder.run({ agent: 'broken-store' }, async () => 42);
    expect(result.output).toBe(42);
    expect((result.recordingError as Error).message).toBe('disk full');
    expect(warnings).toHaveLength(1);
    await recorder.close();
  });

  test('a preset trace id that already exists is refused by the store, reported, and the agent still runs', async () => {
    const t = store();
    const recorder = createRecorder({ store: t.store, captureHttp: false, onWriteError: () => undefined });
    await recorder.run({ agent: 'a', traceId: 'tr_fixed' }, async () => 1);
    const second = await recorder.run({ agent: 'a', traceId: 'tr_fixed' }, async () => 2);
    expect(second.output).toBe(2);
    expect((second.recordingError as { code?: string }).code).toBe('WRONG_EXPECTED_REVISION');
    await recorder.close();
  });
});

function child(path: string, mode: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = new RegExp(`${prefix} (\\S+)`).exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      proc.stdout.on('data', check);
      void exited.then(() => {
        check();
        reject(new Error(`child exited before "${prefix}": ${err}`));
      });
    });
  return { proc, exited, line, stderr: () => err };
}

describe('process exit and crashes', () => {
  test('SIGKILL mid-run: the trace keeps what was flushed and is listed as incomplete', async () => {
    const t = store();
    const c = child(t.path, 'hang');
    const traceId = await c.line('READY');
    expect((await t.store.summary('dur', traceId))?.status).toBe('running');
    c.proc.kill('SIGKILL');
    expect((await c.exited).signal).toBe('SIGKILL');
    const summary = await t.store.summary('dur', traceId);
    expect(summary?.status).toBe('incomplete');
    const events = await readTrace(t.store, 'dur', traceId);
    expect(typesOf(events)).toEqual([
      'agent_started',
      'tool_call',
      'tool_response',
      'decision_made',
      'tool_call',
      'tool_response',
    ]);
    expect((await t.store.list('dur', { status: 'incomplete' })).traces.map((s) => s.traceId)).toContain(traceId);
  });

  test('SIGTERM mid-run: flushed, ended as failed (Interrupted), and the process still dies of the signal', async () => {
    const t = store();
    const c = child(t.path, 'hang');
    const traceId = await c.line('READY');
    c.proc.kill('SIGTERM');
    expect((await c.exited).signal).toBe('SIGTERM');
    const events = await readTrace(t.store, 'dur', traceId);
    const last = events.at(-1);
    expect(last?.type).toBe('agent_failed');
    expect(last?.type === 'agent_failed' && last.payload.error).toMatchObject({ name: 'Interrupted', code: 'SIGTERM' });
    expect((await t.store.summary('dur', traceId))?.status).toBe('failed');
  });

  test('process.exit() mid-run: the unflushed queue is written synchronously in the exit handler', async () => {
    const t = store();
    const c = child(t.path, 'exit');
    const traceId = await c.line('TRACE');
    expect((await c.exited).code).toBe(0);
    const events = await readTrace(t.store, 'dur', traceId);
    expect(typesOf(events)).toEqual([
      'agent_started',
      'tool_call',
      'tool_response',
      'decision_made',
      'tool_call',
      'tool_response',
      'agent_failed',
    ]);
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error.name).toBe('ProcessExit');
  });

  test('process.exit() mid-run after LLM calls: request keys, occurrences, usage and totals are built in the exit handler', async () => {
    const t = store();
    const c = child(t.path, 'exit-llm');
    const traceId = await c.line('TRACE');
    expect((await c.exited).code).toBe(0);
    const events = await readTrace(t.store, 'dur', traceId);
    expect(typesOf(events)).toEqual([
      'agent_started',
      'llm_request',
      'llm_response',
      'llm_request',
      'llm_response',
      'llm_request',
      'llm_response',
      'agent_failed',
    ]);
    const requests = events.flatMap((e) => (e.type === 'llm_request' ? [e.payload] : []));
    expect(requests.map((r) => r.occurrence)).toEqual([0, 1, 0]);
    expect(requests[0]?.requestHash).toBe(requests[1]?.requestHash);
    expect(requests[2]?.requestHash).not.toBe(requests[0]?.requestHash);
    expect(requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini']);
    const responses = events.flatMap((e) => (e.type === 'llm_response' ? [e.payload] : []));
    expect(responses.map((r) => r.usage)).toEqual(Array(3).fill({ inputTokens: 11, outputTokens: 2, totalTokens: 13 }));
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error.name).toBe('ProcessExit');
    expect(last?.type === 'agent_failed' && last.payload.totals).toMatchObject({
      llmCalls: 3,
      inputTokens: 33,
      outputTokens: 6,
    });
  });

  test('an uncaught exception mid-run: flushed and ended with that error', async () => {
    const t = store();
    const c = child(t.path, 'throw');
    const traceId = await c.line('TRACE');
    expect((await c.exited).code).toBe(1);
    expect(c.stderr()).toContain('escaped the agent');
    const events = await readTrace(t.store, 'dur', traceId);
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error).toMatchObject({
      name: 'Error',
      message: 'escaped the agent',
    });
  });
});
