import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ConcurrencyError, NotARetraceStoreError, StoreError } from '../../src/errors.js';
import type { NewEvent } from '../../src/events/envelope.js';
import { createRecorder } from '../../src/recorder/index.js';
import { WorkerStoreSink } from '../../src/recorder/writer.js';
import { reviveError, serializeError } from '../../src/recorder/writer-protocol.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import { verifyTrace } from '../../src/store/verify.js';
import { readTrace, sleep, tempStore, typesOf } from './helpers.js';

/**
 * The writer thread (src/recorder/writer.ts): a store given as a sqlite: URL is written from a worker, with the
 * in-thread writer's order, chain, idempotency, error reporting and exit-time durability.
 */
const CHILD = new URL('./children/writer-child.ts', import.meta.url).pathname;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function store() {
  const t = tempStore();
  cleanups.push(t.cleanup);
  return t;
}

function sink(path: string, entry?: () => Promise<URL>): WorkerStoreSink {
  const s = entry ? new WorkerStoreSink(path, entry) : new WorkerStoreSink(path);
  cleanups.push(() => s.close());
  return s;
}

/** the sink's worker, once it was started (private state, read for the tests that make it stop) */
function workerOf(s: WorkerStoreSink): Worker | undefined {
  return (s as unknown as { thread?: { worker: Worker } }).thread?.worker;
}

let n = 0;
function batch(traceId: string, count: number, first: boolean): NewEvent[] {
  const events: NewEvent[] = [];
  if (first)
    events.push({
      eventId: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      type: 'agent_started',
      payload: {
        agent: 'writer-test',
        mode: 'api',
        input: { traceId },
        environment: { node: 'v20.20.2', platform: 'linux', arch: 'x64', retraceVersion: '0.1.0' },
      },
    } as unknown as NewEvent);
  for (let i = 0; i < count; i++)
    events.push({
      eventId: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      type: 'decision_made',
      payload: { decision: `d${n++}` },
    } as NewEvent);
  return events;
}

function decisions(events: Awaited<ReturnType<typeof readTrace>>): string[] {
  return events.flatMap((e) => (e.type === 'decision_made' ? [e.payload.decision] : []));
}

describe('recording through a store URL', () => {
  test('the batches are committed off the agent thread (none on it, unlike a store object), chain intact', async () => {
    const t = store();
    const appends = vi.spyOn(SqliteEventStore.prototype, 'appendSync');
    const byUrl = createRecorder({ store: `sqlite:${t.path}`, captureHttp: false, flushIntervalMs: 2 });
    const tool = byUrl.tool('double', async (x: number) => x * 2);
    const { traceId } = await byUrl.run({ agent: 'url' }, async (ctx) => {
      for (let i = 0; i < 20; i++) {
        await tool(i);
        ctx.event('decision_made', { decision: `step ${i}` });
        if (i % 5 === 0) await sleep(5);
      }
    });
    await byUrl.close();
    expect(appends).not.toHaveBeenCalled();

    const byObject = createRecorder({ store: t.store, captureHttp: false });
    await byObject.run({ agent: 'object' }, async (ctx) => ctx.event('decision_made', { decision: 'x' }));
    await byObject.close();
    expect(appends).toHaveBeenCalled();

    const events = await readTrace(t.store, 'default', traceId);
    expect(await t.store.summary('default', traceId)).toMatchObject({ status: 'completed', eventCount: 62 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(decisions(events)).toEqual(Array.from({ length: 20 }, (_, i) => `step ${i}`));
    expect((await verifyTrace(t.store, 'default', traceId)).ok).toBe(true);
  });

  test('concurrent runs in many small batches: every trace keeps its order, a contiguous seq and its chain', async () => {
    const t = store();
    const recorder = createRecorder({
      store: `sqlite:${t.path}`,
      captureHttp: false,
      flushIntervalMs: 1,
      maxBatchEvents: 7,
    });
    const runs = await Promise.all(
      Array.from({ length: 5 }, (_, r) =>
        recorder.run({ agent: `concurrent-${r}` }, async (ctx) => {
          for (let i = 0; i < 60; i++) {
            ctx.event('decision_made', { decision: `${r}:${i}` });
            if (i % 3 === r % 3) await sleep(1);
          }
        }),
      ),
    );
    await recorder.close();
    for (const [r, { traceId, recordingError }] of runs.entries()) {
      expect(recordingError).toBeUndefined();
      const events = await readTrace(t.store, 'default', traceId);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      expect(decisions(events)).toEqual(Array.from({ length: 60 }, (_, i) => `${r}:${i}`));
      expect(typesOf(events).at(-1)).toBe('agent_completed');
      expect((await verifyTrace(t.store, 'default', traceId)).ok).toBe(true);
    }
  });

  test('a store file that cannot be used is reported as the in-thread store reports it', async () => {
    const t = store();
    const path = join(t.dir, 'not-a-store.db');
    writeFileSync(path, 'plain text, not SQLite');
    let inThread: unknown;
    try {
      new SqliteEventStore(path);
    } catch (err) {
      inThread = err;
    }
    expect(inThread).toBeInstanceOf(NotARetraceStoreError);
    const reported: unknown[] = [];
    const recorder = createRecorder({
      store: `sqlite:${path}`,
      captureHttp: false,
      onWriteError: (err) => reported.push(err),
    });
    const result = await recorder.run({ agent: 'broken' }, async () => 'still answers');
    await recorder.close();
    expect(result.output).toBe('still answers');
    expect(reported).toHaveLength(1);
    expect(result.recordingError).toBe(reported[0]);
    const err = result.recordingError as NotARetraceStoreError;
    expect(err).toBeInstanceOf(NotARetraceStoreError);
    expect(err).toBeInstanceOf(StoreError);
    const expected = inThread as NotARetraceStoreError;
    expect({ name: err.name, code: err.code, message: err.message, hint: err.hint }).toEqual({
      name: expected.name,
      code: expected.code,
      message: expected.message,
      hint: expected.hint,
    });
    expect(err.describe()).toBe(expected.describe());
  });

  test('a preset trace id that exists: the revision conflict comes back as the same ConcurrencyError', async () => {
    const t = store();
    const recorder = createRecorder({ store: `sqlite:${t.path}`, captureHttp: false, onWriteError: () => undefined });
    await recorder.run({ agent: 'a', traceId: 'tr_writer_fixed' }, async () => 1);
    const second = await recorder.run({ agent: 'a', traceId: 'tr_writer_fixed' }, async () => 2);
    await recorder.close();
    expect(second.output).toBe(2);
    const err = second.recordingError as ConcurrencyError;
    expect(err).toBeInstanceOf(ConcurrencyError);
    expect(err.code).toBe('WRONG_EXPECTED_REVISION');
    expect({ traceId: err.traceId, expected: err.expected, exitCategory: err.exitCategory }).toEqual({
      traceId: 'tr_writer_fixed',
      expected: 'no_stream',
      exitCategory: 'input',
    });
    expect((await t.store.summary('default', 'tr_writer_fixed'))?.eventCount).toBe(2);
  });
});

describe('the sink', () => {
  test('a retried batch is a no-op, asynchronously and at exit (appendSync)', async () => {
    const t = store();
    const s = sink(t.path);
    const first = batch('tr_writer_retry', 3, true);
    const a = await s.append('default', 'tr_writer_retry', first, { expectedRevision: 'no_stream' });
    expect(a.nextExpectedRevision).toBe(3);
    const again = await s.append('default', 'tr_writer_retry', first, { expectedRevision: 'no_stream' });
    expect(again.positions.map((p) => p.duplicate)).toEqual([true, true, true, true]);
    const more = batch('tr_writer_retry', 2, false);
    const sync = s.appendSync('default', 'tr_writer_retry', [...first, ...more], { expectedRevision: 'any' });
    expect(sync.positions.map((p) => p.duplicate)).toEqual([true, true, true, true, false, false]);
    expect(sync.nextExpectedRevision).toBe(5);
    expect(workerOf(s)).toBeDefined();
    expect((await t.store.summary('default', 'tr_writer_retry'))?.eventCount).toBe(6);
  });

  test('appendSync while the worker is still starting: it blocks until the worker has committed both batches', async () => {
    const t = store();
    const s = sink(t.path);
    const first = batch('tr_writer_boot', 2, true);
    const pending = s.append('default', 'tr_writer_boot', first, { expectedRevision: 'no_stream' });
    while (!workerOf(s)) await new Promise((r) => setImmediate(r));
    // the worker object exists; its module may still be loading — the sync request waits in the port behind the first
    const second = batch('tr_writer_boot', 2, false);
    const sync = s.appendSync('default', 'tr_writer_boot', [...first, ...second], { expectedRevision: 'any' });
    expect(sync.nextExpectedRevision).toBe(4);
    // the earlier append's writer must not go back to an older revision than the one the exit flush reached
    expect((await pending).nextExpectedRevision).toBe(4);
    const events = await readTrace(t.store, 'default', 'tr_writer_boot');
    expect(events.map((e) => e.eventId)).toEqual([...first, ...second].map((e) => e.eventId));
  });

  test('a worker that stops: what it had not answered is written from this thread, once', async () => {
    const t = store();
    const s = sink(t.path);
    const first = batch('tr_writer_lost', 2, true);
    await s.append('default', 'tr_writer_lost', first, { expectedRevision: 'no_stream' });
    const second = batch('tr_writer_lost', 3, false);
    const pending = s.append('default', 'tr_writer_lost', second, { expectedRevision: 2 });
    void workerOf(s)?.terminate();
    expect((await pending).nextExpectedRevision).toBe(5);
    const third = batch('tr_writer_lost', 1, false);
    expect((await s.append('default', 'tr_writer_lost', third, { expectedRevision: 5 })).nextExpectedRevision).toBe(6);
    const events = await readTrace(t.store, 'default', 'tr_writer_lost');
    expect(events.map((e) => e.eventId)).toEqual([...first, ...second, ...third].map((e) => e.eventId));
  });

  test('no worker can start: the appends are made on this thread instead', async () => {
    const t = store();
    const s = sink(t.path, () => Promise.reject(new Error('workers are not allowed here')));
    const first = batch('tr_writer_nothread', 2, true);
    expect((await s.append('default', 'tr_writer_nothread', first)).nextExpectedRevision).toBe(2);
    expect(workerOf(s)).toBeUndefined();
    expect((await t.store.summary('default', 'tr_writer_nothread'))?.eventCount).toBe(3);
  });

  test('errors keep their class, code and fields across the thread boundary', () => {
    const original = new ConcurrencyError('tr_x', 'no_stream', '4');
    const revived = reviveError(serializeError(original));
    expect(revived).toBeInstanceOf(ConcurrencyError);
    expect(revived).toMatchObject({
      name: 'ConcurrencyError',
      code: 'WRONG_EXPECTED_REVISION',
      traceId: 'tr_x',
      expected: 'no_stream',
      actual: '4',
      message: original.message,
      hint: original.hint,
    });
    const withCause = new StoreError('cannot write', 'check the disk', {
      cause: Object.assign(new Error('disk I/O error'), { name: 'SqliteError', code: 'SQLITE_IOERR' }),
    });
    const back = reviveError(serializeError(withCause)) as StoreError;
    expect(back).toBeInstanceOf(StoreError);
    expect(back.code).toBe('STORE_UNAVAILABLE');
    expect(back.cause).toMatchObject({ name: 'SqliteError', code: 'SQLITE_IOERR', message: 'disk I/O error' });
    expect(reviveError(serializeError('a string'))).toMatchObject({ message: 'a string' });
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
  const value = (prefix: string) => new RegExp(`${prefix} (\\S+)`).exec(out)?.[1];
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const v = value(prefix);
        if (v) resolve(v);
      };
      proc.stdout.on('data', check);
      void exited.then(() => {
        check();
        reject(new Error(`child exited before "${prefix}": ${err}`));
      });
    });
  return { proc, exited, line, value, stderr: () => err };
}

const LATE = ['late 0', 'late 1', 'late 2', 'late 3', 'late 4'];

describe('exit-time durability with the writer thread', () => {
  test('process.exit() with events queued: the worker commits them before the process ends', async () => {
    const t = store();
    const c = child(t.path, 'exit');
    expect((await c.exited).code).toBe(0);
    const traceId = c.value('TRACE') ?? '';
    expect(c.value('MAIN_THREAD_APPENDS')).toBe('0');
    const events = await readTrace(t.store, 'wr', traceId);
    expect(typesOf(events)).toEqual([
      'agent_started',
      'tool_call',
      'tool_response',
      'tool_call',
      'tool_response',
      ...LATE.map(() => 'decision_made'),
      'agent_failed',
    ]);
    expect(decisions(events)).toEqual(LATE);
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error.name).toBe('ProcessExit');
    expect((await verifyTrace(t.store, 'wr', traceId)).ok).toBe(true);
  });

  test('process.exit() before the first batch: written from the agent thread, nothing lost', async () => {
    const t = store();
    const c = child(t.path, 'exit-early');
    expect((await c.exited).code).toBe(0);
    expect(c.value('MAIN_THREAD_APPENDS')).toBe('1');
    const events = await readTrace(t.store, 'wr', c.value('TRACE') ?? '');
    expect(decisions(events)).toEqual(LATE);
    expect(typesOf(events).at(-1)).toBe('agent_failed');
  });

  test('an uncaught exception: flushed through the worker and ended with that error', async () => {
    const t = store();
    const c = child(t.path, 'throw');
    expect((await c.exited).code).toBe(1);
    expect(c.stderr()).toContain('escaped the agent');
    expect(c.value('MAIN_THREAD_APPENDS')).toBe('0');
    const events = await readTrace(t.store, 'wr', c.value('TRACE') ?? '');
    expect(decisions(events)).toEqual(LATE);
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error).toMatchObject({ message: 'escaped the agent' });
  });

  test('SIGTERM: flushed, ended as Interrupted, and the process still dies of the signal', async () => {
    const t = store();
    const c = child(t.path, 'hang');
    const traceId = await c.line('READY');
    c.proc.kill('SIGTERM');
    expect((await c.exited).signal).toBe('SIGTERM');
    const events = await readTrace(t.store, 'wr', traceId);
    expect(decisions(events)).toEqual(LATE);
    const last = events.at(-1);
    expect(last?.type === 'agent_failed' && last.payload.error).toMatchObject({ name: 'Interrupted', code: 'SIGTERM' });
  });
});
