import { resolve } from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import type { NewEvent } from '../events/envelope.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-store.js';
import type { AppendOptions, AppendResult, EventStore } from '../store/types.js';
import { originalPerformanceNow } from './originals.js';
import type { SyncCapableSink } from './run.js';
import { writerWorkerEntry } from './writer-entry.js';
import { reviveError, type AppendRequest, type WriterData, type WriterReply } from './writer-protocol.js';

/**
 * How long the exit-time flush waits for the writer thread before writing from this thread instead: above the
 * store's default 15 s wait for another process's write lock, so a busy store is waited for, a lost thread is not.
 */
const SYNC_WAIT_MS = 20_000;

interface Thread {
  worker: Worker;
  port: MessagePort;
  /** the worker's acknowledgement word (writer-protocol.ts) */
  state: Int32Array;
}

interface Pending {
  request: AppendRequest | undefined;
  resolve(result: AppendResult | undefined): void;
  reject(error: unknown): void;
}

/**
 * The recorder's writer for an embedded store it opens itself (a sqlite: URL): the appends run in a worker thread
 * (writer-worker.ts) with its own connection to the file, so a batch's validation, hashing and fsync'd commit never
 * pause the agent's event loop. What the agent's thread still does per batch: building and redacting the events
 * (run.ts) and copying them to the worker.
 *
 * Same guarantees as the in-thread writer:
 * - order and atomicity: one worker per sink, requests handled one at a time in the order sent, each through the
 *   store's own append (hash chain, idempotency by eventId, expected revisions unchanged);
 * - exit durability: appendSync (the flush in process 'exit' and signal handlers, exit.ts) sends the batch and blocks
 *   this thread with Atomics.wait until the worker has committed it — workers keep running while 'exit' listeners
 *   run — then takes the reply with receiveMessageOnPort, since no event can be delivered to a blocked thread;
 * - errors: the store's error is rebuilt here with its class, code and hint (writer-protocol.ts), so onWriteError and
 *   recordingError see what the in-thread store would have thrown.
 * When no worker can run (it failed to start, or exited), or at exit before one was started, the batch is written
 * from this thread over a connection of its own — the previous behaviour, and safe to mix: eventIds make a batch
 * the worker may already have committed a no-op.
 */
export class WorkerStoreSink implements SyncCapableSink {
  private thread: Thread | undefined;
  private starting: Promise<Thread | undefined> | undefined;
  /** the worker failed to start or stopped: every write is in-thread from now on */
  private gone = false;
  private closing = false;
  private local: SqliteEventStore | undefined;
  private readonly pending = new Map<number, Pending>();
  private lastId = 0;
  /** resolved when the sink is made, so the worker and an in-thread fallback always open the same file */
  private readonly path: string;

  constructor(
    path: string,
    private readonly entry: () => Promise<URL> = writerWorkerEntry,
  ) {
    this.path = resolve(path);
  }

  async append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    const thread = await this.start();
    if (!thread || this.gone) return this.inThread().appendSync(tenantId, traceId, events, options);
    const request: AppendRequest = {
      kind: 'append',
      id: this.nextId(),
      sync: false,
      tenantId,
      traceId,
      events,
      ...(options ? { options } : {}),
    };
    return new Promise<AppendResult>((resolve, reject) => {
      this.send(thread, request, { request, resolve: resolve as Pending['resolve'], reject });
    });
  }

  /** The exit-time append: blocks until the worker committed the batch (or writes it from this thread). */
  appendSync(tenantId: string, traceId: string, events: readonly NewEvent[], options?: AppendOptions): AppendResult {
    const thread = this.thread;
    if (!thread || this.gone) return this.inThread().appendSync(tenantId, traceId, events, options);
    const id = this.nextId();
    const request: AppendRequest = {
      kind: 'append',
      id,
      sync: true,
      tenantId,
      traceId,
      events,
      ...(options ? { options } : {}),
    };
    thread.port.postMessage(request);
    const earlier: WriterReply[] = [];
    let reply: WriterReply | undefined;
    const deadline = originalPerformanceNow() + SYNC_WAIT_MS;
    while (reply === undefined) {
      const received = receiveMessageOnPort(thread.port) as { message: WriterReply } | undefined;
      if (received) {
        if (received.message.id === id) reply = received.message;
        else earlier.push(received.message);
        continue;
      }
      const left = deadline - originalPerformanceNow();
      if (left <= 0) break;
      const seen = Atomics.load(thread.state, 0);
      // acknowledged means the reply is already queued on the port: take it on the next turn
      if (seen !== id) Atomics.wait(thread.state, 0, seen, Math.min(left, 1000));
    }
    // replies to earlier requests came first on the one port: settled now, their continuations run after this
    // returns — so an earlier append of the same trace must not hand its writer an older revision than this one
    for (const r of earlier) {
      const before = this.pending.get(r.id)?.request;
      if (r.ok && r.result && reply?.ok && reply.result && before?.traceId === traceId && before.tenantId === tenantId)
        r.result.nextExpectedRevision = Math.max(r.result.nextExpectedRevision, reply.result.nextExpectedRevision);
      this.settle(r);
    }
    if (reply === undefined) {
      // the worker did not answer: write from here (the batch is idempotent if the worker commits it after all)
      this.gone = true;
      return this.inThread().appendSync(tenantId, traceId, events, options);
    }
    if (!reply.ok) throw reviveError(reply.error);
    return reply.result as AppendResult;
  }

  /** the store, for reading a finished run back (the OTLP mirror) */
  async storeForRead(): Promise<EventStore> {
    return this.inThread();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const thread = await this.starting;
    if (thread && !this.gone) {
      // handled after every append sent before it; the worker then closes its connection and ends
      await new Promise<void>((resolve) => {
        this.send(
          thread,
          { kind: 'close', id: this.nextId() },
          { request: undefined, resolve: () => resolve(), reject: () => resolve() },
        );
      });
    }
    // a worker that was lost or stopped answering is ended too; lost() does nothing once gone is set
    this.gone = true;
    await thread?.worker.terminate();
    this.thread = undefined;
    await this.local?.close();
  }

  private inThread(): SqliteEventStore {
    if (this.closing && !this.local)
      throw new StoreError(`The store ${this.path} was closed.`, 'Create a new recorder with createRecorder().');
    this.local ??= new SqliteEventStore(this.path);
    return this.local;
  }

  private nextId(): number {
    this.lastId = this.lastId >= 0x7fff_ffff ? 1 : this.lastId + 1;
    return this.lastId;
  }

  private start(): Promise<Thread | undefined> {
    this.starting ??= this.spawn().catch(() => {
      // no worker here (the permission model without --allow-worker, no esbuild in a source checkout): in-thread
      this.gone = true;
      return undefined;
    });
    return this.starting;
  }

  private async spawn(): Promise<Thread> {
    const url = await this.entry();
    const { port1, port2 } = new MessageChannel();
    const state = new Int32Array(new SharedArrayBuffer(4));
    const data: WriterData = { path: this.path, port: port2, state: state.buffer as SharedArrayBuffer };
    const worker = new Worker(url, {
      workerData: data,
      transferList: [port2],
      // nothing of this process's preloads (--import, NODE_OPTIONS: a zero-code recorder, a TypeScript loader)
      execArgv: [],
      env: {},
    });
    worker.unref();
    port1.on('message', (reply: WriterReply) => this.settle(reply));
    // referenced only while a reply is awaited (send/settle): an idle writer never keeps the process alive
    port1.unref();
    worker.on('error', () => this.lost());
    worker.on('exit', () => this.lost());
    this.thread = { worker, port: port1, state };
    return this.thread;
  }

  private send(thread: Thread, request: AppendRequest | { kind: 'close'; id: number }, pending: Pending): void {
    this.pending.set(request.id, pending);
    if (this.pending.size === 1) thread.port.ref();
    try {
      thread.port.postMessage(request);
    } catch (err) {
      // an event the structured clone cannot copy: the same refusal a store would give, for this batch only
      this.forget(request.id);
      pending.reject(err);
    }
  }

  private forget(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.thread?.port.unref();
    return pending;
  }

  private settle(reply: WriterReply): void {
    const pending = this.forget(reply.id);
    if (!pending) return;
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(reviveError(reply.error));
  }

  /** The worker stopped: what it had not answered is written from this thread (idempotent if it was committed). */
  private lost(): void {
    if (this.gone) return;
    this.gone = true;
    const thread = this.thread;
    for (const [id, pending] of [...this.pending]) {
      this.forget(id);
      const r = pending.request;
      if (!r) {
        pending.resolve(undefined);
        continue;
      }
      try {
        pending.resolve(this.inThread().appendSync(r.tenantId, r.traceId, r.events, r.options));
      } catch (err) {
        pending.reject(err);
      }
    }
    thread?.port.close();
  }
}
