import type { NewEvent } from '../events/envelope.js';
import type { EnvRead, ErrorInfo, EventType, PayloadInputOf, Totals } from '../events/payloads.js';
import { OccurrenceCounter, type NormalizationOptions, type ProviderBaseUrl } from '../hashing/index.js';
import type { AppendOptions, AppendResult, ExpectedRevision } from '../store/types.js';
import { internal } from './context.js';
import type { EventSink, NondeterminismSource, ReplayHooks } from './hooks.js';
import { freshEventId, nowIso, originalClearTimeout, originalPerformanceNow, originalSetTimeout } from './originals.js';
import type { PricingTable } from './pricing.js';
import { warnUncaptured } from './uncaptured.js';

/** A sink that can also write synchronously (the embedded store): used for the last flush in a process 'exit' handler. */
export interface SyncCapableSink extends EventSink {
  appendSync?(tenantId: string, traceId: string, events: readonly NewEvent[], options?: AppendOptions): AppendResult;
}

export interface RunConfig {
  sink: SyncCapableSink;
  tenant: string;
  /** default rules plus the user's hook; `memory` holds the secrets already seen in this run; throws to refuse the
   *  event (the batch is then not written) */
  redact(event: NewEvent, memory: Set<string>): NewEvent;
  pricing: PricingTable;
  providers: readonly ProviderBaseUrl[];
  /** base URLs whose requests are never LLM calls */
  excludeEndpoints: readonly string[];
  normalization: NormalizationOptions;
  hooks: ReplayHooks | undefined;
  captureNondeterminism: boolean;
  /** record the environment variables the agent reads (default true) */
  captureEnvironment?: boolean;
  flushIntervalMs: number;
  maxBatchEvents: number;
  /** how long the end of a run waits for responses still being read */
  pendingResponseTimeoutMs: number;
  onWriteError(error: unknown, run: RunState): void;
}

/** An HTTP exchange in flight (see http.ts): the run waits for it at the end, or closes it as cut off. */
export interface PendingExchange {
  readonly done: Promise<void>;
  /** records whatever arrived so far as the response, with an error saying why it ends here */
  abandon(reason: string): void;
}

const ND_ORDER: readonly NondeterminismSource[] = [
  'Date.now',
  'Date',
  'performance.now',
  'Math.random',
  'crypto.randomUUID',
  'crypto.getRandomValues',
];
/** a source with this many unflushed values is written out even between other events */
const ND_MAX_VALUES = 10_000;

/**
 * A position in the trace taken now and filled later (a response recorded when it began, written once complete).
 * The payload may be given as a function: it is then built by the writer, in trace order, off the agent's path.
 */
export type Reservation = <T extends EventType>(
  type: T,
  payload: PayloadInputOf<T> | (() => PayloadInputOf<T>),
  parentEventId?: string,
) => void;

/** a reserved position: blocks writing until it holds an event or a builder of one */
interface Slot {
  event: NewEvent | undefined;
  build?: () => NewEvent;
}

function envelope(
  eventId: string,
  timestamp: string,
  type: EventType,
  payload: unknown,
  parentEventId: string | undefined,
): NewEvent {
  return { eventId, timestamp, type, payload, ...(parentEventId !== undefined ? { parentEventId } : {}) } as NewEvent;
}

export type Terminal = { type: 'agent_completed'; output: unknown } | { type: 'agent_failed'; error: ErrorInfo };

/**
 * One recorded run = one trace. Events are queued in order and written in batches by a single writer per run, each
 * append continuing the previous one's revision (`no_stream`, then each `nextExpectedRevision`). The agent never waits
 * for a write; `finish()` waits for all of them.
 */
export class RunState {
  /** false once the terminal event is queued: later events (late callbacks) are not recorded */
  active = true;
  readonly startedAt = originalPerformanceNow();
  readonly httpOccurrences = new OccurrenceCounter();
  readonly toolOccurrences = new OccurrenceCounter();
  readonly pending = new Set<PendingExchange>();
  readonly totals: Totals = {
    llmCalls: 0,
    toolCalls: 0,
    httpCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    durationMs: 0,
  };
  /** origins of requests made by clients neither capture path saw (their own undici dispatcher), told at the end */
  readonly uncaptured = new Set<string>();
  /** the first error that stopped the recording (store unavailable, revision conflict, redact hook threw) */
  writeError: unknown;
  eventCount = 0;

  /** events in trace order; a Slot is a reserved position that blocks writing until it is filled */
  private queue: Array<NewEvent | Slot> = [];
  private inflight: NewEvent[] = [];
  private revision: ExpectedRevision = 'no_stream';
  private writing: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private broken = false;
  private readonly redactionMemory = new Set<string>();
  private readonly nd = new Map<NondeterminismSource, Array<number | string>>();
  /** environment variables read since the last drain, and every name read so far (first read wins) */
  private envPending = new Map<string, EnvRead>();
  /** the last recorded read of each variable: a read that sees another value is recorded again */
  private readonly envSeen = new Map<string, EnvRead>();
  private ndCount = 0;

  constructor(
    readonly traceId: string,
    readonly config: RunConfig,
    readonly agent: string,
  ) {}

  get hooks(): ReplayHooks | undefined {
    return this.config.hooks;
  }

  /** Queues an event (after any nondeterministic values observed before it) and returns its eventId. */
  emit<T extends EventType>(type: T, payload: PayloadInputOf<T>, parentEventId?: string): string {
    const eventId = freshEventId();
    if (!this.active) return eventId;
    if (this.ndCount > 0) this.drainNondeterminism();
    this.enqueue(envelope(eventId, nowIso(), type, payload, parentEventId));
    return eventId;
  }

  /**
   * emit() whose payload is built later, by the writer: its place in the trace, eventId and timestamp are taken now;
   * `build` runs when the batch holding it is written (builders run in trace order, each exactly once), so work the
   * agent does not need now (request keys, parsing bodies for usage) stays off the agent's path.
   */
  emitLater<T extends EventType>(type: T, build: () => PayloadInputOf<T>, parentEventId?: string): string {
    const eventId = freshEventId();
    if (!this.active || this.broken) return eventId;
    const timestamp = nowIso();
    if (this.ndCount > 0) this.drainNondeterminism();
    this.queue.push({ event: undefined, build: () => envelope(eventId, timestamp, type, build(), parentEventId) });
    this.eventCount++;
    if (this.queue.length >= this.config.maxBatchEvents) void this.flush();
    else this.schedule();
    return eventId;
  }

  /**
   * Takes the next position in the trace now, for an event whose content is known later: a response is placed where
   * it began (before anything the caller does after receiving it), not where its body happened to finish — so the
   * event order does not depend on how fast a body was read, and a replay records the same order.
   */
  reserve(): Reservation {
    const eventId = freshEventId();
    const timestamp = nowIso();
    if (!this.active || this.broken) return () => undefined;
    if (this.ndCount > 0) this.drainNondeterminism();
    const slot: Slot = { event: undefined };
    this.queue.push(slot);
    this.eventCount++;
    return (type, payload, parentEventId) => {
      if (slot.event !== undefined || slot.build !== undefined) return;
      if (typeof payload === 'function')
        slot.build = () => envelope(eventId, timestamp, type, (payload as () => unknown)(), parentEventId);
      else slot.event = envelope(eventId, timestamp, type, payload, parentEventId);
      this.schedule();
    };
  }

  noteUncaptured(origin: string): void {
    if (this.active) this.uncaptured.add(origin);
  }

  /** A nondeterministic value the agent observed; written compactly (one event per source) before the next event. */
  recordValue(source: NondeterminismSource, value: number | string): void {
    if (!this.active) return;
    let values = this.nd.get(source);
    if (!values) {
      values = [];
      this.nd.set(source, values);
    }
    values.push(value);
    this.ndCount++;
    if (values.length >= ND_MAX_VALUES) this.drainNondeterminism();
  }

  /** The last recorded read of `name` in this run, if any. */
  lastEnvRead(name: string): EnvRead | undefined {
    return this.envSeen.get(name);
  }

  /**
   * A read of an environment variable in this run (env-capture.ts): the first read, and any later read that sees a
   * different value (the process set or removed it meanwhile); the replay serves the last one recorded.
   */
  recordEnvRead(name: string, read: EnvRead): void {
    if (!this.active) return;
    const last = this.envSeen.get(name);
    if (last !== undefined && sameEnvRead(last, read)) return;
    this.envSeen.set(name, read);
    if (!this.envPending.has(name)) this.ndCount++;
    this.envPending.set(name, read);
  }

  private drainNondeterminism(): void {
    for (const source of ND_ORDER) {
      const values = this.nd.get(source);
      if (!values || values.length === 0) continue;
      this.nd.set(source, []);
      this.enqueue({
        eventId: freshEventId(),
        timestamp: nowIso(),
        type: 'nondeterminism',
        payload: { source, values },
      } as NewEvent);
    }
    if (this.envPending.size > 0) {
      const env = Object.fromEntries(this.envPending);
      this.envPending = new Map();
      this.enqueue({
        eventId: freshEventId(),
        timestamp: nowIso(),
        type: 'nondeterminism',
        payload: { source: 'env', values: Object.keys(env), env },
      } as NewEvent);
    }
    this.ndCount = 0;
  }

  private enqueue(event: NewEvent): void {
    if (this.broken) return;
    this.queue.push(event);
    this.eventCount++;
    if (this.queue.length >= this.config.maxBatchEvents) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.writing !== undefined || this.broken) return;
    this.timer = originalSetTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.config.flushIntervalMs);
    this.timer.unref?.();
  }

  /** Writes everything queued so far; resolves when it is durable (or the recording broke). */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      originalClearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing === undefined) {
      this.writing = internal(() =>
        this.writeLoop().finally(() => {
          this.writing = undefined;
          if (this.writable() > 0 && !this.broken) this.schedule();
        }),
      );
    }
    return this.writing;
  }

  async flushAll(): Promise<void> {
    while ((this.writable() > 0 && !this.broken) || this.writing !== undefined) await this.flush();
  }

  /** how many queued events can be written now: those before the first unfilled reservation */
  private writable(): number {
    let n = 0;
    for (const item of this.queue) {
      if ('type' in item || item.event !== undefined || item.build !== undefined) n++;
      else break;
    }
    return n;
  }

  /** removes and returns up to `max` writable events from the head of the queue, building deferred payloads in order */
  private take(max: number): NewEvent[] {
    const n = Math.min(max, this.writable());
    return this.queue
      .splice(0, n)
      .map((item) => ('type' in item ? item : (item.event ?? (item.build as () => NewEvent)())));
  }

  /** takes up to `max` events and redacts them; undefined (and the recording stops) when building or redacting threw */
  private prepare(max: number): NewEvent[] | undefined {
    try {
      return this.take(max).map((e) => this.config.redact(e, this.redactionMemory));
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.writable() > 0 && !this.broken) {
      const batch = this.prepare(this.config.maxBatchEvents);
      if (!batch) return;
      this.inflight = batch;
      try {
        const result = await this.config.sink.append(this.config.tenant, this.traceId, batch, {
          expectedRevision: this.revision,
        });
        this.revision = result.nextExpectedRevision;
      } catch (err) {
        this.fail(err);
      } finally {
        this.inflight = [];
      }
    }
  }

  private fail(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.writeError = err;
    this.queue = [];
    this.config.onWriteError(err, this);
  }

  /**
   * The exit-time flush: synchronous, so it works inside process.on('exit'). Re-sends the batch that may be in flight
   * (event ids make that idempotent) plus the queue, with expectedRevision 'any'. Returns false when the sink cannot
   * write synchronously.
   */
  flushSync(): boolean {
    const appendSync = this.config.sink.appendSync;
    if (typeof appendSync !== 'function' || this.broken) return false;
    if (this.timer !== undefined) {
      originalClearTimeout(this.timer);
      this.timer = undefined;
    }
    const rest = this.prepare(Number.MAX_SAFE_INTEGER);
    if (!rest) return false;
    const events = [...this.inflight, ...rest];
    if (events.length === 0) return true;
    try {
      const result = appendSync.call(this.config.sink, this.config.tenant, this.traceId, events, {
        expectedRevision: 'any',
      });
      this.revision = result.nextExpectedRevision;
      this.inflight = [];
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** The terminal event, built by the writer after every event before it: responses add their usage to the totals when built. */
  private enqueueTerminal(t: Terminal): void {
    const durationMs = Math.max(0, Math.round((originalPerformanceNow() - this.startedAt) * 1000) / 1000);
    const eventId = freshEventId();
    const timestamp = nowIso();
    const build = (): NewEvent => {
      this.totals.durationMs = durationMs;
      this.totals.costUsd = Math.round(this.totals.costUsd * 1e9) / 1e9;
      const totals = { ...this.totals };
      return t.type === 'agent_completed'
        ? envelope(eventId, timestamp, 'agent_completed', { output: t.output, totals }, undefined)
        : envelope(eventId, timestamp, 'agent_failed', { error: t.error, totals }, undefined);
    };
    if (this.broken) return;
    this.queue.push({ event: undefined, build });
    this.eventCount++;
  }

  /** Ends the run: waits (bounded) for responses still being read, writes the terminal event, flushes everything. */
  async finish(t: Terminal): Promise<void> {
    if (!this.active) return this.flushAll();
    if (this.pending.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = originalSetTimeout(resolve, this.config.pendingResponseTimeoutMs);
      });
      await Promise.race([Promise.allSettled([...this.pending].map((p) => p.done)), timeout]);
      if (timer !== undefined) originalClearTimeout(timer);
    }
    this.endNow(t);
    await this.flushAll();
  }

  /** The synchronous end for exit handlers. */
  finishSync(t: Terminal): boolean {
    if (this.active) this.endNow(t);
    return this.flushSync();
  }

  private endNow(t: Terminal): void {
    if (this.active && this.uncaptured.size > 0) warnUncaptured(this.traceId, this.uncaptured);
    for (const p of [...this.pending]) p.abandon('the run ended before this response was complete');
    if (this.ndCount > 0) this.drainNondeterminism();
    if (this.active) this.enqueueTerminal(t);
    this.active = false;
  }
}

/** Whether two recorded reads of a variable say the same thing. */
export function sameEnvRead(a: EnvRead, b: EnvRead): boolean {
  if ('value' in a || 'value' in b) return 'value' in a && 'value' in b && a.value === b.value;
  return 'absent' in a === 'absent' in b;
}
