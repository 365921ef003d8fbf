import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  CorruptEventError,
  DuplicateEventIdError,
  NotARetraceStoreError,
  RetraceError,
  StoreCorruptError,
  StoreError,
  TraceNotFoundError,
  ValidationError,
} from '../../errors.js';
import type { NewEvent, StoredEvent } from '../../events/envelope.js';
import { assertTenantId, assertTraceId } from '../../events/ids.js';
import type { LifecycleSnapshot } from '../../events/lifecycle.js';
import { safeParseStoredEvent } from '../../events/validate.js';
import {
  checkExpectedRevision,
  emptyTraceState,
  planAppend,
  statusOf,
  validateBatch,
  type PlannedEvent,
  type TraceState,
} from '../append-plan.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { deriveStatus, writerIdentity } from '../liveness.js';
import {
  LIMITS,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ListFilter,
  type ReadRange,
  type TracePage,
  type TraceStatus,
  type TraceSummary,
} from '../types.js';
import { EventIdIndex } from './event-id-index.js';
import { MultiInsert } from './multi-insert.js';
import { APPLICATION_ID, CREATE_TABLES, LAYOUT_VERSION, MIGRATE_1_TO_2 } from './schema.js';

export const DEFAULT_SQLITE_PATH = '.retrace/retrace.db';
const READ_PAGE = 512;
const SQLITE_MAGIC = 'SQLite format 3\0';

export interface SqliteStoreOptions {
  /** ms a writer waits for another process's write lock before failing (default 15 s) */
  busyTimeoutMs?: number;
  maxEventBytes?: number;
  maxTraceEvents?: number;
  /** fail instead of creating a new store file (commands that only read: list, show, export, verify) */
  mustExist?: boolean;
  /** how many recent eventIds are held before they are merged into the sorted index (tests set it low) */
  eventIdMergeAt?: number;
}

interface TraceRow {
  tenant_id: string;
  trace_id: string;
  agent: string | null;
  status: 'running' | 'completed' | 'failed';
  event_count: number;
  last_seq: number;
  last_hash: string;
  total_bytes: number;
  started_at: string | null;
  ended_at: string | null;
  updated_at: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  lifecycle: string;
  writer_pid: number | null;
  writer_host: string | null;
  replay_of: string | null;
}

/**
 * On Node 24, better-sqlite3 12 can abort the process when V8 garbage-collects a prepared statement (its destructor
 * asserts in node::RemoveEnvironmentCleanupHook; a known upstream race, reproduced here by `retrace replay`). Until
 * that is fixed upstream, every statement and connection this store makes there is kept reachable for the life of the
 * process, so none is ever collected: statements are cached per SQL text, so this is a bounded set per store.
 * Pragmas are issued through exec (no statement object) for the same reason.
 */
const PIN_STATEMENTS = Number(process.versions.node.split('.')[0]) >= 24;
const pinned = new Set<unknown>();
function pin<T>(value: T): T {
  if (PIN_STATEMENTS) pinned.add(value);
  return value;
}

/** Maps better-sqlite3's errors onto ours, so callers never see a raw SqliteError. */
function translate(err: unknown, path: string): unknown {
  if (err instanceof RetraceError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_INDEX') {
    return new StoreCorruptError(
      `The store file ${path} is damaged (${String(code)}).`,
      'Restore it from a backup or an archive, or point RETRACE_STORE at a new file; run `sqlite3 FILE "PRAGMA integrity_check"` to see the damage.',
      { cause: err },
    );
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreError(
      `The store file ${path} stayed locked by another process for too long.`,
      'Another process holds a long write transaction; retry, or raise busyTimeoutMs.',
      { cause: err },
    );
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL' || code === 'SQLITE_IOERR') {
    return new StoreError(
      `The store file ${path} cannot be written (${String(code)}).`,
      'Check that its folder exists, is writable and that the disk has space.',
      { cause: err },
    );
  }
  return err;
}

function checkHeader(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  if (size === 0) return;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    if (buf.toString('latin1') !== SQLITE_MAGIC) {
      throw new NotARetraceStoreError(
        `${path} is not a retrace store (it is not an SQLite database at all).`,
        'Point --store / RETRACE_STORE at a retrace store file (sqlite:PATH), or at a path that does not exist yet to create one.',
      );
    }
  } finally {
    closeSync(fd);
  }
}

export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite';
  readonly readOnly = false;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly limits: { maxEventBytes: number; maxTraceEvents: number };
  private readonly eventIdMergeAt: number | undefined;
  private readonly stmt: ReturnType<SqliteEventStore['prepare']>;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  /** the file's layout as last seen: 1 until the first write migrates it (src/store/sqlite/schema.ts) */
  private layout = LAYOUT_VERSION;
  private readonly insertEvents = new MultiInsert(
    (sql) => this.cached(sql),
    'INSERT INTO events (id, tenant_id, trace_id, seq, event_id, type, body)',
    7,
  );
  /** made once the file has layout 2, since its statements name layout-2 tables */
  private eventIds: EventIdIndex | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.location = resolve(path);
    this.limits = {
      maxEventBytes: options.maxEventBytes ?? LIMITS.maxEventBytes,
      maxTraceEvents: options.maxTraceEvents ?? LIMITS.maxTraceEvents,
    };
    this.eventIdMergeAt = options.eventIdMergeAt;
    if (options.mustExist && !existsSync(this.location)) {
      throw new StoreError(
        `There is no retrace store at ${this.location}.`,
        'Record a run first (see README "Record a run"), or point --store / RETRACE_STORE at an existing store.',
      );
    }
    checkHeader(this.location);
    mkdirSync(dirname(this.location), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = pin(new Database(this.location, { timeout: options.busyTimeoutMs ?? 15_000 }));
      this.db = db;
      this.initialize();
      this.stmt = this.prepare();
    } catch (err) {
      db?.close();
      throw translate(err, this.location);
    }
  }

  private cached<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = pin(this.db.prepare(sql));
      this.statements.set(sql, stmt);
    }
    return stmt as unknown as Database.Statement<P, R>;
  }

  private initialize(): void {
    const db = this.db;
    const appId = this.cached('PRAGMA application_id').pluck().get() as number;
    const tableCount = (
      this.cached("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
    ).n;
    if (appId !== APPLICATION_ID && tableCount > 0) {
      throw new NotARetraceStoreError(
        `${this.location} is an SQLite database, but not a retrace store (it has other tables and no retrace marker).`,
        'Point --store / RETRACE_STORE at a retrace store file, or at a path that does not exist yet to create one.',
      );
    }
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a commit is on disk before append() resolves. Throughput comes from batching, not from weaker sync.
    db.exec('PRAGMA synchronous = FULL');
    // fewer, larger checkpoints: each one costs extra fsyncs of the WAL and the database; measured +20–35 % appends/s at
    // 100 events per batch with a 10k-page (~40 MB) WAL instead of SQLite's 1k default
    db.exec('PRAGMA wal_autocheckpoint = 10000');
    db.exec('PRAGMA foreign_keys = OFF');
    if (appId !== APPLICATION_ID || tableCount === 0) {
      db.transaction(() => {
        db.exec(CREATE_TABLES);
        db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
        db.exec(`PRAGMA user_version = ${LAYOUT_VERSION}`);
      }).immediate();
    }
    const version = this.cached('PRAGMA user_version').pluck().get() as number;
    this.layout = version;
    if (version > LAYOUT_VERSION) {
      throw new NotARetraceStoreError(
        `${this.location} was written by a newer retrace (store layout ${version}; this one reads up to ${LAYOUT_VERSION}).`,
        'Upgrade agent-retrace to read this store.',
      );
    }
  }

  private prepare() {
    const db = { prepare: <P extends unknown[] | {} = unknown[], R = unknown>(sql: string) => this.cached<P, R>(sql) };
    return {
      trace: db.prepare<[string, string], TraceRow>('SELECT * FROM traces WHERE tenant_id = ? AND trace_id = ?'),
      eventAt: db.prepare<[number], { trace_id: string; seq: number }>('SELECT trace_id, seq FROM events WHERE id = ?'),
      maxEventRow: db.prepare<[], number | null>('SELECT max(id) FROM events').pluck(),
      upsertTrace: db.prepare(`INSERT INTO traces (tenant_id, trace_id, agent, status, event_count, last_seq, last_hash,
          total_bytes, started_at, ended_at, updated_at, input_tokens, output_tokens, cost_usd, lifecycle, writer_pid,
          writer_host, replay_of)
        VALUES (@tenant_id, @trace_id, @agent, @status, @event_count, @last_seq, @last_hash, @total_bytes, @started_at,
          @ended_at, @updated_at, @input_tokens, @output_tokens, @cost_usd, @lifecycle, @writer_pid, @writer_host, @replay_of)
        ON CONFLICT (tenant_id, trace_id) DO UPDATE SET agent = excluded.agent, status = excluded.status,
          event_count = excluded.event_count, last_seq = excluded.last_seq, last_hash = excluded.last_hash,
          total_bytes = excluded.total_bytes, started_at = excluded.started_at, ended_at = excluded.ended_at,
          updated_at = excluded.updated_at, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
          cost_usd = excluded.cost_usd, lifecycle = excluded.lifecycle, writer_pid = excluded.writer_pid,
          writer_host = excluded.writer_host, replay_of = excluded.replay_of`),
      readPage: db.prepare<[string, string, number, number, number], { seq: number; body: string }>(
        'SELECT seq, body FROM events WHERE tenant_id = ? AND trace_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      ),
      deleteEvents: db.prepare('DELETE FROM events WHERE tenant_id = ? AND trace_id = ?'),
      deleteTrace: db.prepare('DELETE FROM traces WHERE tenant_id = ? AND trace_id = ?'),
    };
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new StoreError(`The store ${this.location} was closed.`, 'Open it again with openStore().');
    }
  }

  private stateOf(row: TraceRow): TraceState {
    let lifecycle: LifecycleSnapshot;
    try {
      lifecycle = JSON.parse(row.lifecycle) as LifecycleSnapshot;
    } catch (err) {
      throw new StoreCorruptError(
        `The lifecycle state of trace "${row.trace_id}" in ${this.location} is damaged.`,
        'Run `retrace verify` on it; restore the store from a backup if it fails.',
        { cause: err },
      );
    }
    return {
      lastSeq: row.last_seq,
      lastHash: row.last_hash,
      eventCount: row.event_count,
      totalBytes: row.total_bytes,
      lifecycle,
      agent: row.agent,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      costUsd: row.cost_usd,
      replayOf: row.replay_of,
    };
  }

  async append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    return this.appendSync(tenantId, traceId, events, options);
  }

  /**
   * The same append, synchronously: for the recorder's last flush inside a process 'exit' handler, where no promise
   * ever settles. better-sqlite3 is synchronous underneath, so this is not a second implementation.
   */
  appendSync(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): AppendResult {
    this.ensureOpen();
    const parsed = validateBatch(tenantId, traceId, events);
    const expected = options.expectedRevision ?? 'any';
    if (expected !== 'any' && expected !== 'no_stream' && !(Number.isInteger(expected) && expected >= 0)) {
      throw new ValidationError(
        `expectedRevision ${JSON.stringify(expected)} is not valid.`,
        'Use "no_stream", "any", or the seq of the trace\'s last event.',
        'expectedRevision',
      );
    }
    const writer = writerIdentity();
    const run = this.db.transaction((): AppendResult => {
      const ids = this.writableLayout();
      const row = this.stmt.trace.get(tenantId, traceId);
      const state = row ? this.stateOf(row) : undefined;
      // durable idempotency: an eventId already in this trace is a no-op returning its original position; one in
      // another trace of the tenant is refused. One indexed lookup for the whole batch (event-id-index.ts).
      const known = new Map<string, number>();
      for (const [eventId, rowId] of ids.lookup(
        tenantId,
        parsed.map((e) => e.eventId),
      )) {
        const hit = this.stmt.eventAt.get(rowId);
        if (!hit) {
          throw new StoreCorruptError(
            `The eventId index of ${this.location} names event row ${rowId}, which is missing.`,
            'The store was altered outside retrace; run `retrace verify`, and restore the store from a backup if it fails.',
          );
        }
        if (hit.trace_id !== traceId) throw new DuplicateEventIdError(eventId, hit.trace_id, traceId);
        known.set(eventId, hit.seq);
      }
      const fresh = known.size > 0 ? parsed.filter((e) => !known.has(e.eventId)) : parsed;
      if (fresh.length === 0 && parsed.length > 0) {
        return {
          nextExpectedRevision: state?.lastSeq ?? -1,
          positions: parsed.map((e) => ({ eventId: e.eventId, seq: known.get(e.eventId) ?? -1, duplicate: true })),
        };
      }
      checkExpectedRevision(traceId, state, expected);
      if (fresh.length === 0) return { nextExpectedRevision: state?.lastSeq ?? -1, positions: [] };
      const { planned, next } = planAppend(tenantId, traceId, state ?? emptyTraceState(), fresh, this.limits);
      // explicit row ids (max + 1, as SQLite would pick) so the eventId index can point at them without a read back
      const firstRowId = (this.stmt.maxEventRow.get() ?? 0) + 1;
      const rows: unknown[] = new Array(planned.length * 7);
      const eventIds: string[] = new Array(planned.length);
      for (let k = 0; k < planned.length; k++) {
        const { event, json } = planned[k] as PlannedEvent;
        const at = k * 7;
        rows[at] = firstRowId + k;
        rows[at + 1] = tenantId;
        rows[at + 2] = traceId;
        rows[at + 3] = event.seq;
        rows[at + 4] = event.eventId;
        rows[at + 5] = event.type;
        rows[at + 6] = json;
        eventIds[k] = event.eventId;
      }
      this.insertEvents.run(rows);
      ids.add(tenantId, eventIds, firstRowId);
      this.stmt.upsertTrace.run({
        tenant_id: tenantId,
        trace_id: traceId,
        agent: next.agent,
        status: statusOf(next),
        event_count: next.eventCount,
        last_seq: next.lastSeq,
        last_hash: next.lastHash,
        total_bytes: next.totalBytes,
        started_at: next.startedAt,
        ended_at: next.endedAt,
        updated_at: new Date().toISOString(),
        input_tokens: next.inputTokens,
        output_tokens: next.outputTokens,
        cost_usd: next.costUsd,
        lifecycle: JSON.stringify(next.lifecycle),
        writer_pid: writer.pid,
        writer_host: writer.host,
        replay_of: next.replayOf,
      });
      let j = 0;
      return {
        nextExpectedRevision: next.lastSeq,
        positions: parsed.map((e) => {
          const dup = known.get(e.eventId);
          if (dup !== undefined) return { eventId: e.eventId, seq: dup, duplicate: true };
          // fresh keeps parsed's order, so the k-th new event is the k-th planned one
          return { eventId: e.eventId, seq: (planned[j++] as PlannedEvent).event.seq, duplicate: false };
        }),
      };
    });
    return this.write(() => run.immediate());
  }

  /**
   * Runs a write transaction and tells the eventId index how it ended: its in-memory tail takes this connection's
   * writes only once they are durable.
   */
  private write<T>(transaction: () => T): T {
    const layoutBefore = this.layout;
    try {
      const result = transaction();
      this.eventIds?.committed();
      return result;
    } catch (err) {
      this.eventIds?.rolledBack();
      this.layout = layoutBefore;
      throw translate(err, this.location);
    }
  }

  /**
   * Inside a write transaction: migrates an older file to the current layout first (under the write lock, so two
   * processes cannot both migrate) and returns the eventId index.
   */
  private writableLayout(): EventIdIndex {
    if (this.layout < LAYOUT_VERSION) {
      const version = this.cached('PRAGMA user_version').pluck().get() as number;
      if (version === 1) this.db.exec(MIGRATE_1_TO_2);
      this.layout = LAYOUT_VERSION;
      this.eventIds?.reset();
    }
    this.eventIds ??= new EventIdIndex(
      <P extends unknown[] | object = unknown[], R = unknown>(sql: string) => this.cached<P, R>(sql),
      this.eventIdMergeAt,
    );
    this.eventIds.sync();
    return this.eventIds;
  }

  /** Errors (bad id, unknown trace) surface on the first iteration, as in every backend. */
  async *read(tenantId: string, traceId: string, range: ReadRange = {}): AsyncGenerator<StoredEvent> {
    assertTenantId(tenantId);
    assertTraceId(traceId);
    this.ensureOpen();
    let row: TraceRow | undefined;
    try {
      row = this.stmt.trace.get(tenantId, traceId);
    } catch (err) {
      throw translate(err, this.location);
    }
    if (!row) throw new TraceNotFoundError(tenantId, traceId);
    let from = Math.max(0, range.fromSeq ?? 0);
    const to = Math.min(row.last_seq, range.toSeq ?? row.last_seq);
    while (from <= to) {
      let page: { seq: number; body: string }[];
      try {
        // paged, not one long-lived iterator: the connection stays usable between yields and memory stays bounded
        page = this.stmt.readPage.all(tenantId, traceId, from, to, READ_PAGE);
      } catch (err) {
        throw translate(err, this.location);
      }
      if (page.length === 0) break;
      for (const { seq, body } of page) {
        if (seq !== from) {
          throw new CorruptEventError(
            `Trace "${traceId}" has a gap: seq ${from} is missing (next stored is ${seq}).`,
            'The store was altered outside retrace; restore the trace from an export or archive.',
            traceId,
            from,
          );
        }
        yield this.decode(traceId, tenantId, seq, body);
        from += 1;
      }
    }
    if (from <= to) {
      throw new CorruptEventError(
        `Trace "${traceId}" ends at seq ${from - 1}, but its summary says ${to}.`,
        'The store was altered outside retrace; restore the trace from an export or archive.',
        traceId,
        from,
      );
    }
  }

  private decode(traceId: string, tenantId: string, seq: number, body: string): StoredEvent {
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch (err) {
      throw new CorruptEventError(
        `Event ${seq} of trace "${traceId}" is not valid JSON in the store.`,
        'The store was altered outside retrace; restore the trace from an export or archive.',
        traceId,
        seq,
      );
    }
    const parsed = safeParseStoredEvent(raw);
    if (!parsed.ok) {
      throw new CorruptEventError(
        `Event ${seq} of trace "${traceId}" fails its schema at ${parsed.field}: ${parsed.text}.`,
        'The store was altered outside retrace, or written by an incompatible version; run `retrace verify`.',
        traceId,
        seq,
      );
    }
    if (parsed.event.seq !== seq || parsed.event.traceId !== traceId || parsed.event.tenantId !== tenantId) {
      throw new CorruptEventError(
        `Event ${seq} of trace "${traceId}" claims to be ${parsed.event.tenantId}/${parsed.event.traceId}#${parsed.event.seq}.`,
        'The store was altered outside retrace; run `retrace verify`.',
        traceId,
        seq,
      );
    }
    return parsed.event;
  }

  private summaryOf(row: TraceRow): TraceSummary {
    const status = deriveStatus(row.status, { pid: row.writer_pid, host: row.writer_host, updatedAt: row.updated_at });
    const durationMs = row.started_at && row.ended_at ? Date.parse(row.ended_at) - Date.parse(row.started_at) : null;
    return {
      tenantId: row.tenant_id,
      traceId: row.trace_id,
      agent: row.agent,
      status,
      eventCount: row.event_count,
      lastSeq: row.last_seq,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      durationMs,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      costUsd: row.cost_usd,
      replayOf: row.replay_of,
    };
  }

  async list(tenantId: string, filter: ListFilter = {}): Promise<TracePage> {
    this.ensureOpen();
    assertTenantId(tenantId);
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 50)), 1000);
    const where: string[] = ['tenant_id = @tenant'];
    const params: Record<string, unknown> = { tenant: tenantId };
    if (filter.agent !== undefined) {
      where.push('agent = @agent');
      params.agent = filter.agent;
    }
    const wanted: TraceStatus | undefined = filter.status;
    if (wanted === 'completed' || wanted === 'failed') {
      where.push('status = @status');
      params.status = wanted;
    } else if (wanted === 'running' || wanted === 'incomplete') {
      where.push("status = 'running'");
    }
    if (filter.startedAfter !== undefined) {
      where.push('started_at >= @after');
      params.after = filter.startedAfter;
    }
    if (filter.startedBefore !== undefined) {
      where.push('started_at <= @before');
      params.before = filter.startedBefore;
    }
    let cursor = filter.cursor !== undefined ? decodeCursor(filter.cursor) : undefined;
    const traces: TraceSummary[] = [];
    try {
      // running vs incomplete is decided per row (is the writer alive?), so keep paging until the page is full
      for (;;) {
        const keyset = cursor ? ' AND (started_at < @cs OR (started_at = @cs AND trace_id < @ct))' : '';
        const rows = this.cached<Record<string, unknown>, TraceRow>(
          `SELECT * FROM traces WHERE ${where.join(' AND ')}${keyset} ORDER BY started_at DESC, trace_id DESC LIMIT @lim`,
        ).all({ ...params, ...(cursor ? { cs: cursor[0], ct: cursor[1] } : {}), lim: limit + 1 });
        for (const row of rows) {
          if (traces.length === limit) return { traces, nextCursor: encodeCursor(cursor ?? ['', '']) };
          cursor = [row.started_at ?? '', row.trace_id];
          const s = this.summaryOf(row);
          if (wanted === undefined || s.status === wanted) traces.push(s);
        }
        if (rows.length <= limit) return { traces };
      }
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  async tenants(): Promise<string[]> {
    try {
      const rows = this.cached<[], { tenant_id: string }>(
        'SELECT DISTINCT tenant_id FROM traces ORDER BY tenant_id LIMIT 100',
      ).all();
      return rows.map((r) => r.tenant_id);
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  async exists(tenantId: string, traceId: string): Promise<boolean> {
    return (await this.summary(tenantId, traceId)) !== undefined;
  }

  async summary(tenantId: string, traceId: string): Promise<TraceSummary | undefined> {
    this.ensureOpen();
    assertTenantId(tenantId);
    assertTraceId(traceId);
    try {
      const row = this.stmt.trace.get(tenantId, traceId);
      return row ? this.summaryOf(row) : undefined;
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  async deleteTrace(tenantId: string, traceId: string): Promise<boolean> {
    this.ensureOpen();
    assertTenantId(tenantId);
    assertTraceId(traceId);
    try {
      const remove = this.db.transaction(() => {
        this.writableLayout().forgetTrace(tenantId, traceId);
        this.stmt.deleteEvents.run(tenantId, traceId);
        return this.stmt.deleteTrace.run(tenantId, traceId).changes > 0;
      });
      return this.write(() => remove.immediate());
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
