import type Database from 'better-sqlite3';
import { MultiInsert } from './multi-insert.js';

/**
 * The tenant-wide eventId index of the embedded store (layout 2, src/store/sqlite/schema.ts): which events.id holds a
 * given (tenant, eventId). Durable idempotency and DUPLICATE_EVENT_ID rest on it, so it lives in the file and is
 * written in the append's own transaction; this class only decides where to look and keeps the unmerged tail
 * (`recent_event_ids`, about MERGE_AT rows at most) in memory. An append writes no random B-tree leaf per event:
 * its ids go to the tail (appended in order), and older ids are only read (one batched probe of event_ids).
 *
 * Limit: a merge writes each leaf of event_ids it touches (~80 ids per 4 KB leaf). With 10^5 stored events that is
 * ~0.6 KB of WAL per merged id; near 10^6 it is ~3 KB, close to the one 4 KB leaf per event the old unique index cost
 * every append. Stores far beyond that would want a tiered index (merge size growing with the table).
 *
 * Every method runs inside a write transaction the caller holds (BEGIN IMMEDIATE), so what `sync` reads is everything
 * any connection committed. The caller reports the outcome with `committed()` / `rolledBack()`: this connection's own
 * writes reach the in-memory tail only once they are durable.
 */
export const MERGE_AT = 8192;
// 8192 ids ≈ 0.5 MB to load when a process first appends, and one merge per 8192 appended events

type Prepare = <P extends unknown[] | object = unknown[], R = unknown>(sql: string) => Database.Statement<P, R>;

function keyOf(tenantId: string, eventId: string): string {
  // tenant ids never hold a NUL (src/events/ids.ts), so this cannot join two different pairs into one key
  return `${tenantId}\u0000${eventId}`;
}

export class EventIdIndex {
  /** (tenant, eventId) → events.id for every row of recent_event_ids, as last synced */
  private readonly recent = new Map<string, number>();
  private loaded = false;
  private generation = -1;
  private dataVersion = -1;
  private lastRowId = 0;
  private pending: { rowId: number; key: string }[] = [];
  private pendingGeneration: number | undefined;
  private readonly stmt;
  private readonly insertRecent: MultiInsert;

  constructor(
    prepare: Prepare,
    private readonly mergeAt = MERGE_AT,
  ) {
    this.insertRecent = new MultiInsert(prepare, 'INSERT INTO recent_event_ids (row_id, tenant_id, event_id)', 3);
    this.stmt = {
      dataVersion: prepare<[], number>('PRAGMA data_version').pluck(),
      generation: prepare<[], number>("SELECT value FROM store_meta WHERE key = 'id_generation'").pluck(),
      bumpGeneration: prepare("UPDATE store_meta SET value = value + 1 WHERE key = 'id_generation'"),
      recentAfter: prepare<[number], { row_id: number; tenant_id: string; event_id: string }>(
        'SELECT row_id, tenant_id, event_id FROM recent_event_ids WHERE row_id > ? ORDER BY row_id',
      ),
      merged: prepare<[string, string], { event_id: string; row_id: number }>(
        'SELECT e.event_id, e.row_id FROM json_each(?) AS j CROSS JOIN event_ids AS e ON e.tenant_id = ? AND e.event_id = j.value',
      ),
      merge: prepare(
        'INSERT INTO event_ids (tenant_id, event_id, row_id) SELECT tenant_id, event_id, row_id FROM recent_event_ids ORDER BY tenant_id, event_id',
      ),
      clearRecent: prepare('DELETE FROM recent_event_ids'),
      forgetTraceMerged: prepare(
        'DELETE FROM event_ids WHERE tenant_id = ? AND event_id IN (SELECT event_id FROM events WHERE tenant_id = ? AND trace_id = ?)',
      ),
      forgetTraceRecent: prepare(
        'DELETE FROM recent_event_ids WHERE row_id IN (SELECT id FROM events WHERE tenant_id = ? AND trace_id = ?)',
      ),
    };
  }

  /** Brings the in-memory tail up to what is committed; merges it into event_ids once it is MERGE_AT rows long. */
  sync(): void {
    const version = this.stmt.dataVersion.get() as number;
    if (!this.loaded || version !== this.dataVersion) {
      // another connection committed since we last looked (data_version changes only for other connections' commits)
      const generation = this.stmt.generation.get() as number;
      if (!this.loaded || generation !== this.generation) {
        // a merge or a trace deletion happened: what we hold may name rows that moved or are gone
        this.recent.clear();
        this.lastRowId = 0;
        this.generation = generation;
        this.loaded = true;
      }
      for (const r of this.stmt.recentAfter.all(this.lastRowId)) {
        this.recent.set(keyOf(r.tenant_id, r.event_id), r.row_id);
        this.lastRowId = r.row_id;
      }
      this.dataVersion = version;
    }
    if (this.recent.size >= this.mergeAt && this.pendingGeneration === undefined) {
      // one sorted bulk insert: each leaf of event_ids is written once for thousands of ids
      this.stmt.merge.run();
      this.stmt.clearRecent.run();
      this.stmt.bumpGeneration.run();
      this.pendingGeneration = this.generation + 1;
    }
  }

  /** The events.id of each of `eventIds` already stored in the tenant (after sync, in the same transaction). */
  lookup(tenantId: string, eventIds: readonly string[]): Map<string, number> {
    const hits = new Map<string, number>();
    if (eventIds.length === 0) return hits;
    if (this.pendingGeneration === undefined) {
      for (const id of eventIds) {
        const rowId = this.recent.get(keyOf(tenantId, id));
        if (rowId !== undefined) hits.set(id, rowId);
      }
    }
    // everything older than the tail (and the tail itself, when this transaction just merged it)
    for (const r of this.stmt.merged.all(JSON.stringify(eventIds), tenantId)) hits.set(r.event_id, r.row_id);
    return hits;
  }

  /**
   * Indexes events this transaction writes at events.id = firstRowId, firstRowId + 1, …; the in-memory tail takes
   * them once the transaction commits.
   */
  add(tenantId: string, eventIds: readonly string[], firstRowId: number): void {
    const rows: unknown[] = new Array(eventIds.length * 3);
    for (let k = 0; k < eventIds.length; k++) {
      const eventId = eventIds[k] as string;
      rows[k * 3] = firstRowId + k;
      rows[k * 3 + 1] = tenantId;
      rows[k * 3 + 2] = eventId;
      this.pending.push({ rowId: firstRowId + k, key: keyOf(tenantId, eventId) });
    }
    this.insertRecent.run(rows);
  }

  /** Removes a trace's ids from the index, in the caller's delete transaction. */
  forgetTrace(tenantId: string, traceId: string): void {
    this.stmt.forgetTraceMerged.run(tenantId, tenantId, traceId);
    this.stmt.forgetTraceRecent.run(tenantId, traceId);
    this.stmt.bumpGeneration.run();
    // reload from the file next time rather than track which rows went
    this.loaded = false;
  }

  committed(): void {
    if (this.pendingGeneration !== undefined) {
      this.recent.clear();
      this.generation = this.pendingGeneration;
      this.lastRowId = 0;
    }
    for (const { rowId, key } of this.pending) {
      this.recent.set(key, rowId);
      if (rowId > this.lastRowId) this.lastRowId = rowId;
    }
    this.clearPending();
  }

  rolledBack(): void {
    this.clearPending();
  }

  /** For a layout change made behind this index (the 1 → 2 migration): start again from the file. */
  reset(): void {
    this.loaded = false;
    this.clearPending();
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingGeneration = undefined;
  }
}
