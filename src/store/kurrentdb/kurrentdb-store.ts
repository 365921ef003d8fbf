import { jsonEvent, type KurrentDBClient, type ResolvedEvent } from '@kurrent/kurrentdb-client';
import { CorruptEventError, StoreCorruptError, StoreError, TraceNotFoundError, ValidationError } from '../../errors.js';
import type { NewEvent, ParsedNewEvent, StoredEvent } from '../../events/envelope.js';
import { assertTenantId, assertTraceId } from '../../events/ids.js';
import { safeParseStoredEvent } from '../../events/validate.js';
import {
  checkExpectedRevision,
  emptyTraceState,
  planAppend,
  statusOf,
  validateBatch,
  type TraceState,
} from '../append-plan.js';
import { decodeCursor, encodeCursor, type ListCursor } from '../cursor.js';
import { writerIdentity } from '../liveness.js';
import {
  LIMITS,
  type AppendedPosition,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type ListFilter,
  type ReadRange,
  type TracePage,
  type TraceSummary,
} from '../types.js';
import { DEFAULT_MAX_APPEND_BYTES, splitBySize } from './batching.js';
import { isStreamNotFound, isWrongExpectedVersion, translateKurrentError } from './errors.js';
import { deterministicUuid, indexStreamName, revisionOf, seqOf, streamStateFor, traceStreamName } from './naming.js';
import {
  decodeTraceMeta,
  encodeTraceMeta,
  INDEX_EVENT_TYPES,
  IndexEntrySchema,
  summaryFromState,
  type IndexEntry,
  type LoadedState,
} from './state.js';

/** The part of the client this store uses: keeps the dependency narrow and the types honest. */
export type KurrentClientLike = Pick<KurrentDBClient, 'appendToStream' | 'readStream' | 'deleteStream' | 'dispose'>;

export interface KurrentStoreOptions {
  maxEventBytes?: number;
  maxTraceEvents?: number;
  /** the server's MaxAppendSize (default 1 MiB); batches are split below it */
  maxAppendBytes?: number;
}

const READ_PAGE = 512;
/** extra events read back beyond the batch length when checking for an idempotent re-append */
const DEDUP_MARGIN = 64;
/** optimistic retries when expectedRevision is 'any' and another writer keeps winning */
const MAX_ATTEMPTS = 5;
const CACHE_TRACES = 256;
const CACHE_IDS = 4096;

interface Tail {
  loaded: LoadedState | undefined;
  /** eventId (lower case) → seq for the newest events of the trace */
  recent: Map<string, number>;
}

/**
 * KurrentDB backend: one stream per trace, the event's KurrentDB id is its retrace eventId, seq = revision
 * - base. All the append rules (validation, lifecycle, seq, hash chain, aggregates) come from append-plan.ts, so it
 * behaves like the embedded store. Differences, by necessity:
 *  - Idempotent re-append is detected against the trace's newest events (the batch length + 64, or the last 4096 this
 *    process wrote); an eventId reused much further back, or in another trace, is not detected (SQLite has a unique
 *    index for that; KurrentDB has no lookup by event id).
 *  - A batch larger than MaxAppendSize is written as several appends. If the connection drops between them the trace
 *    holds a consistent prefix of the batch; retrying the same batch completes it (the written part is recognised).
 */
export class KurrentDbEventStore implements EventStore {
  readonly kind = 'kurrentdb';
  readonly readOnly = false;
  private readonly limits: { maxEventBytes: number; maxTraceEvents: number };
  private readonly maxAppendBytes: number;
  /** state after this process's own appends, so a recorder's steady stream of appends skips the read */
  private readonly cache = new Map<string, Tail>();
  private closed = false;

  constructor(
    private readonly client: KurrentClientLike,
    readonly location: string,
    options: KurrentStoreOptions = {},
  ) {
    this.limits = {
      maxEventBytes: options.maxEventBytes ?? LIMITS.maxEventBytes,
      maxTraceEvents: options.maxTraceEvents ?? LIMITS.maxTraceEvents,
    };
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError(`The store ${this.location} was closed.`, 'Open it again with openStore().');
  }

  private fail(err: unknown, tenantId?: string, traceId?: string, base?: bigint): unknown {
    return translateKurrentError(err, { location: this.location, tenantId, traceId, base });
  }

  /** Reads the newest `window` events backwards: the first carries the trace state in its metadata. */
  private async loadTail(tenantId: string, traceId: string, window: number): Promise<Tail> {
    const stream = traceStreamName(tenantId, traceId);
    const recent = new Map<string, number>();
    let loaded: LoadedState | undefined;
    try {
      for await (const r of this.client.readStream(stream, {
        direction: 'backwards',
        fromRevision: 'end',
        maxCount: window,
      })) {
        const ev = r.event;
        if (!ev) continue;
        if (!loaded) loaded = decodeTraceMeta(ev.metadata, `the last event of trace "${traceId}"`);
        recent.set(ev.id.toLowerCase(), seqOf(loaded.base, ev.revision));
      }
    } catch (err) {
      if (isStreamNotFound(err)) return { loaded: undefined, recent };
      throw this.fail(err, tenantId, traceId);
    }
    return { loaded, recent };
  }

  private cacheKey(tenantId: string, traceId: string): string {
    return `${tenantId}\u0000${traceId}`;
  }

  private async tailFor(tenantId: string, traceId: string, batchLength: number): Promise<Tail> {
    const window = batchLength + DEDUP_MARGIN;
    const cached = this.cache.get(this.cacheKey(tenantId, traceId));
    // the cache is good enough when it remembers as many ids as a server read would return
    if (cached?.loaded && cached.recent.size >= Math.min(cached.loaded.state.eventCount, window)) return cached;
    return this.loadTail(tenantId, traceId, window);
  }

  private remember(tenantId: string, traceId: string, tail: Tail): void {
    const key = this.cacheKey(tenantId, traceId);
    this.cache.delete(key);
    while (tail.recent.size > CACHE_IDS) {
      const oldest = tail.recent.keys().next().value;
      if (oldest === undefined) break;
      tail.recent.delete(oldest);
    }
    this.cache.set(key, tail);
    if (this.cache.size > CACHE_TRACES) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
  }

  async append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.ensureOpen();
    const parsed = validateBatch(tenantId, traceId, events);
    let expected: ExpectedRevision = options.expectedRevision ?? 'any';
    if (expected !== 'any' && expected !== 'no_stream' && !(Number.isInteger(expected) && expected >= 0)) {
      throw new ValidationError(
        `expectedRevision ${JSON.stringify(expected)} is not valid.`,
        'Use "no_stream", "any", or the seq of the trace\'s last event.',
        'expectedRevision',
      );
    }
    const key = this.cacheKey(tenantId, traceId);
    const positions = new Map<string, AppendedPosition>();
    let remaining: ParsedNewEvent[] = parsed;
    let deletedAt: bigint | null = null;
    let lastSeq = -1;
    let ended = false;
    let endedState: LoadedState | undefined;

    for (let attempt = 1; ; attempt++) {
      const tail = await this.tailFor(tenantId, traceId, remaining.length);
      const fresh: ParsedNewEvent[] = [];
      for (const e of remaining) {
        const seq = tail.recent.get(e.eventId.toLowerCase());
        if (seq !== undefined) positions.set(e.eventId, { eventId: e.eventId, seq, duplicate: true });
        else fresh.push(e);
      }
      const state: TraceState = tail.loaded?.state ?? emptyTraceState();
      lastSeq = state.lastSeq;
      // like the embedded store: a batch that is entirely a repeat succeeds without a revision check
      if (fresh.length === 0 && parsed.length > 0) break;
      checkExpectedRevision(traceId, tail.loaded?.state, expected);
      if (fresh.length === 0) break;

      const base = tail.loaded?.base ?? (deletedAt !== null ? deletedAt + 1n : 0n);
      // plan the whole batch first: lifecycle, size and trace limits fail before anything is written
      const whole = planAppend(tenantId, traceId, state, fresh, this.limits);
      const chunks = splitBySize(
        whole.planned.map((p) => ({ bytes: Buffer.byteLength(p.json), eventId: p.event.eventId, type: p.event.type })),
        this.maxAppendBytes,
      );
      const writer = writerIdentity();
      const stream = traceStreamName(tenantId, traceId);
      if (state.lastSeq < 0) await this.writeIndex(tenantId, traceId, 'registered', base, whole.next);

      let cur = state;
      let offset = 0;
      try {
        for (const n of chunks) {
          const slice = fresh.slice(offset, offset + n);
          // planAppend is pure, so re-planning a chunk from the state before it yields the very same events
          const step = chunks.length === 1 ? whole : planAppend(tenantId, traceId, cur, slice, this.limits);
          const after: LoadedState = { state: step.next, base, writer, updatedAt: new Date().toISOString() };
          const meta = encodeTraceMeta(after);
          const batch = step.planned.map((p, i) =>
            jsonEvent({
              id: p.event.eventId,
              type: p.event.type,
              data: p.event as unknown as Record<string, unknown>,
              ...(i === step.planned.length - 1 ? { metadata: meta as unknown as Record<string, unknown> } : {}),
            }),
          );
          await this.client.appendToStream(stream, batch, {
            streamState: streamStateFor(base, cur.lastSeq, deletedAt),
          });
          for (const p of step.planned) {
            positions.set(p.event.eventId, { eventId: p.event.eventId, seq: p.event.seq, duplicate: false });
            tail.recent.set(p.event.eventId.toLowerCase(), p.event.seq);
          }
          cur = step.next;
          offset += n;
          lastSeq = cur.lastSeq;
          // our own earlier chunk moved the trace: a retry of the rest must expect that, not the caller's revision
          if (expected !== 'any') expected = cur.lastSeq;
          tail.loaded = after;
          if (statusOf(cur) !== 'running') {
            ended = true;
            endedState = after;
          }
        }
        this.remember(tenantId, traceId, tail);
      } catch (err) {
        this.cache.delete(key);
        if (isWrongExpectedVersion(err) && attempt < MAX_ATTEMPTS) {
          if (offset === 0 && state.lastSeq < 0 && deletedAt === null && typeof err.actualState === 'bigint') {
            // no readable events, yet the stream has revisions: it was soft-deleted; revisions continue after it
            const again = await this.loadTail(tenantId, traceId, 1);
            if (!again.loaded) deletedAt = err.actualState;
          }
          remaining = fresh.slice(offset);
          // reload and re-check: an explicit expectedRevision now fails as ConcurrencyError, 'any' replans
          continue;
        }
        throw this.fail(err, tenantId, traceId, base);
      }
      break;
    }
    if (ended && endedState) {
      // best effort: `list` reads live state for traces the index still shows as running, so a lost write is harmless
      await this.writeIndex(tenantId, traceId, 'ended', endedState.base, endedState.state).catch(() => undefined);
    }
    return {
      nextExpectedRevision: lastSeq,
      positions: parsed.map((e) => positions.get(e.eventId) ?? { eventId: e.eventId, seq: -1, duplicate: true }),
    };
  }

  private async writeIndex(
    tenantId: string,
    traceId: string,
    kind: IndexEntry['kind'],
    base: bigint,
    state?: TraceState,
  ): Promise<void> {
    const entry: IndexEntry = { traceId, kind };
    if (state && kind !== 'deleted') {
      entry.summary = {
        agent: state.agent,
        status: statusOf(state),
        eventCount: state.eventCount,
        lastSeq: state.lastSeq,
        startedAt: state.startedAt,
        endedAt: state.endedAt,
        inputTokens: state.inputTokens,
        outputTokens: state.outputTokens,
        costUsd: state.costUsd,
        replayOf: state.replayOf,
      };
    }
    try {
      await this.client.appendToStream(
        indexStreamName(tenantId),
        jsonEvent({
          // deterministic: a retried registration is dropped by the server's idempotency check
          id: deterministicUuid(tenantId, traceId, kind, base.toString()),
          type: INDEX_EVENT_TYPES[kind],
          data: entry as unknown as Record<string, unknown>,
        }),
        { streamState: 'any' },
      );
    } catch (err) {
      throw this.fail(err, tenantId, traceId);
    }
  }

  /** Every error, a bad id included, surfaces on iteration (as in the embedded store). */
  async *read(tenantId: string, traceId: string, range: ReadRange = {}): AsyncGenerator<StoredEvent> {
    assertTenantId(tenantId);
    assertTraceId(traceId);
    this.ensureOpen();
    const { loaded } = await this.loadTail(tenantId, traceId, 1);
    if (!loaded) throw new TraceNotFoundError(tenantId, traceId);
    const stream = traceStreamName(tenantId, traceId);
    let from = Math.max(0, range.fromSeq ?? 0);
    const to = Math.min(loaded.state.lastSeq, range.toSeq ?? loaded.state.lastSeq);
    while (from <= to) {
      const page: ResolvedEvent[] = [];
      try {
        const it = this.client.readStream(stream, {
          direction: 'forwards',
          fromRevision: revisionOf(loaded.base, from),
          maxCount: Math.min(READ_PAGE, to - from + 1),
        });
        for await (const r of it) page.push(r);
      } catch (err) {
        throw this.fail(err, tenantId, traceId, loaded.base);
      }
      if (page.length === 0) break;
      for (const r of page) {
        yield this.decode(tenantId, traceId, from, r);
        from += 1;
      }
    }
    if (from <= to) {
      throw new CorruptEventError(
        `Trace "${traceId}" ends at seq ${from - 1}, but its state says ${to}.`,
        'The stream was truncated ($maxCount/$maxAge/$tb metadata?); restore the trace from an archive.',
        traceId,
        from,
      );
    }
  }

  private decode(tenantId: string, traceId: string, seq: number, r: ResolvedEvent): StoredEvent {
    const parsed = safeParseStoredEvent(r.event?.data);
    if (!parsed.ok) {
      throw new CorruptEventError(
        `Event ${seq} of trace "${traceId}" fails its schema at ${parsed.field}: ${parsed.text}.`,
        'Something other than retrace wrote to this stream, or an incompatible version; run `retrace verify`.',
        traceId,
        seq,
      );
    }
    const e = parsed.event;
    if (e.seq !== seq || e.traceId !== traceId || e.tenantId !== tenantId) {
      throw new CorruptEventError(
        `Event ${seq} of trace "${traceId}" claims to be ${e.tenantId}/${e.traceId}#${e.seq}.`,
        'The stream was altered outside retrace (or truncated); run `retrace verify`.',
        traceId,
        seq,
      );
    }
    return e;
  }

  /** The tenant's index folded to one entry per live trace (later entries win; a deletion removes the trace). */
  private async readIndex(tenantId: string): Promise<Map<string, IndexEntry>> {
    const entries = new Map<string, IndexEntry>();
    try {
      for await (const r of this.client.readStream(indexStreamName(tenantId), {
        direction: 'forwards',
        fromRevision: 'start',
      })) {
        const parsed = IndexEntrySchema.safeParse(r.event?.data);
        if (!parsed.success) {
          throw new StoreCorruptError(
            `The trace index of tenant "${tenantId}" at ${this.location} holds an entry retrace did not write.`,
            `Only retrace should append to ${indexStreamName(tenantId)}; remove the foreign event or restore the stream.`,
          );
        }
        const e = parsed.data;
        if (e.kind === 'deleted') entries.delete(e.traceId);
        else if (e.kind === 'ended' || !entries.has(e.traceId)) entries.set(e.traceId, e);
      }
    } catch (err) {
      if (isStreamNotFound(err)) return entries;
      throw this.fail(err, tenantId);
    }
    return entries;
  }

  async list(tenantId: string, filter: ListFilter = {}): Promise<TracePage> {
    this.ensureOpen();
    assertTenantId(tenantId);
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 50)), 1000);
    const cursor: ListCursor | undefined = filter.cursor !== undefined ? decodeCursor(filter.cursor) : undefined;
    const index = await this.readIndex(tenantId);
    const keyOf = (e: IndexEntry): ListCursor => [e.summary?.startedAt ?? '', e.traceId];
    const candidates = [...index.values()]
      .filter((e) => {
        const s = e.summary;
        if (!s) return false;
        if (filter.agent !== undefined && s.agent !== filter.agent) return false;
        if (filter.startedAfter !== undefined && !(s.startedAt !== null && s.startedAt >= filter.startedAfter))
          return false;
        if (filter.startedBefore !== undefined && !(s.startedAt !== null && s.startedAt <= filter.startedBefore))
          return false;
        if (!cursor) return true;
        const [cs, ct] = keyOf(e);
        return cs < cursor[0] || (cs === cursor[0] && ct < cursor[1]);
      })
      .sort((a, b) => {
        const [as, at] = keyOf(a);
        const [bs, bt] = keyOf(b);
        return as === bs ? (at < bt ? 1 : at > bt ? -1 : 0) : as < bs ? 1 : -1;
      });
    const traces: TraceSummary[] = [];
    let last: ListCursor | undefined = cursor;
    for (const e of candidates) {
      if (traces.length === limit) return { traces, nextCursor: encodeCursor(last ?? ['', '']) };
      last = keyOf(e);
      const s = await this.summaryFromIndex(tenantId, e);
      if (s && (filter.status === undefined || s.status === filter.status)) traces.push(s);
    }
    return { traces };
  }

  private async summaryFromIndex(tenantId: string, e: IndexEntry): Promise<TraceSummary | undefined> {
    const s = e.summary;
    if (e.kind === 'ended' && s && s.status !== 'running') {
      const durationMs = s.startedAt && s.endedAt ? Date.parse(s.endedAt) - Date.parse(s.startedAt) : null;
      return { tenantId, traceId: e.traceId, ...s, status: s.status, durationMs };
    }
    // running (or the end entry was lost): ask the trace itself, which also decides running vs incomplete
    return this.summary(tenantId, e.traceId);
  }

  async exists(tenantId: string, traceId: string): Promise<boolean> {
    return (await this.summary(tenantId, traceId)) !== undefined;
  }

  async summary(tenantId: string, traceId: string): Promise<TraceSummary | undefined> {
    this.ensureOpen();
    assertTenantId(tenantId);
    assertTraceId(traceId);
    const { loaded } = await this.loadTail(tenantId, traceId, 1);
    return loaded ? summaryFromState(tenantId, traceId, loaded, statusOf(loaded.state)) : undefined;
  }

  async deleteTrace(tenantId: string, traceId: string): Promise<boolean> {
    this.ensureOpen();
    assertTenantId(tenantId);
    assertTraceId(traceId);
    const { loaded } = await this.loadTail(tenantId, traceId, 1);
    if (!loaded) return false;
    this.cache.delete(this.cacheKey(tenantId, traceId));
    try {
      // soft delete with the revision we saw: a concurrent append makes this fail instead of deleting unseen events
      await this.client.deleteStream(traceStreamName(tenantId, traceId), {
        expectedRevision: revisionOf(loaded.base, loaded.state.lastSeq),
      });
    } catch (err) {
      if (isStreamNotFound(err)) return false;
      throw this.fail(err, tenantId, traceId, loaded.base);
    }
    await this.writeIndex(tenantId, traceId, 'deleted', loaded.base);
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    await this.client.dispose();
  }
}
