import {
  isRetraceError,
  type RetraceError,
  StoreCorruptError,
  StoreError,
  TraceNotFoundError,
  ValidationError,
} from '../../errors.js';
import { toNewEvent, type StoredEvent } from '../../events/envelope.js';
import { assertTenantId, assertTraceId } from '../../events/ids.js';
import type { EventStore, TraceSummary } from '../types.js';
import { S3Archive } from './s3-archive.js';
import { S3EventStore } from './s3-store.js';

/**
 * Library side of `retrace archive` and `retrace restore` (the CLI commands call these). Per-trace failures do not
 * stop the run: each trace gets its own outcome, and the CLI turns failures into its exit code.
 */
export interface ArchiveOptions {
  from: EventStore;
  tenantId: string;
  /** explicit traces; or select by age with olderThanMs */
  traceIds?: readonly string[];
  /** archive ended/incomplete traces that started more than this many ms ago */
  olderThanMs?: number;
  /** s3://bucket/prefix?endpoint=…, or an already opened archive / S3 store */
  to: string | S3Archive | S3EventStore;
  /** delete the hot copy after the archived object was read back and its hash checked */
  prune?: boolean;
  /** for tests and reproducible runs */
  now?: Date;
  /** traces archived at once (default 8): S3 latency, not CPU, bounds a run of many small traces */
  concurrency?: number;
  onProgress?: (result: ArchiveTraceResult) => void;
}

export interface ArchiveTraceResult {
  traceId: string;
  outcome: 'archived' | 'already-archived' | 'skipped' | 'failed';
  eventCount: number;
  pruned: boolean;
  /** data object key when archived */
  objectKey?: string;
  /** why skipped or failed */
  reason?: string;
  error?: RetraceError;
}

export interface ArchiveReport {
  location: string;
  tenantId: string;
  results: ArchiveTraceResult[];
  archived: number;
  alreadyArchived: number;
  skipped: number;
  failed: number;
  pruned: number;
  events: number;
}

function toArchive(to: string | S3Archive | S3EventStore): { archive: S3Archive; owned: boolean } {
  if (typeof to === 'string') return { archive: S3Archive.fromUrl(to), owned: true };
  return { archive: to instanceof S3EventStore ? to.archive : to, owned: false };
}

async function readAll(store: EventStore, tenantId: string, traceId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const e of store.read(tenantId, traceId)) events.push(e);
  return events;
}

async function selectByAge(store: EventStore, tenantId: string, olderThanMs: number, now: Date): Promise<string[]> {
  const before = new Date(now.getTime() - olderThanMs).toISOString();
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(tenantId, {
      startedBefore: before,
      limit: 1000,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const t of page.traces) if (t.status !== 'running') ids.push(t.traceId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function asRetraceError(err: unknown): RetraceError {
  if (isRetraceError(err)) return err;
  return new StoreError(
    `Unexpected failure: ${err instanceof Error ? err.message : String(err)}`,
    'Retry; report it if it persists.',
    { cause: err },
  );
}

export async function archiveTraces(options: ArchiveOptions): Promise<ArchiveReport> {
  const { from, tenantId } = options;
  assertTenantId(tenantId);
  if ((options.traceIds === undefined) === (options.olderThanMs === undefined)) {
    throw new ValidationError(
      'Archive needs either trace ids or an age (olderThanMs), not both and not neither.',
      'Pass trace ids, or --older-than 30d.',
      'traceIds',
    );
  }
  if (options.olderThanMs !== undefined && !(Number.isFinite(options.olderThanMs) && options.olderThanMs >= 0)) {
    throw new ValidationError(
      `olderThanMs ${String(options.olderThanMs)} is not a duration.`,
      'Pass a non-negative number of milliseconds (e.g. 30 days = 2592000000).',
      'olderThanMs',
    );
  }
  for (const id of options.traceIds ?? []) assertTraceId(id);
  const now = options.now ?? new Date();
  const { archive, owned } = toArchive(options.to);
  const report: ArchiveReport = {
    location: archive.location,
    tenantId,
    results: [],
    archived: 0,
    alreadyArchived: 0,
    skipped: 0,
    failed: 0,
    pruned: 0,
    events: 0,
  };
  try {
    const ids = options.traceIds ?? (await selectByAge(from, tenantId, options.olderThanMs ?? 0, now));
    const results = await mapPool(ids, Math.max(1, Math.trunc(options.concurrency ?? 8)), async (traceId) => {
      const result = await archiveOne(from, archive, tenantId, traceId, options.prune === true, now);
      options.onProgress?.(result);
      return result;
    });
    for (const result of results) {
      report.results.push(result);
      if (result.outcome === 'archived') report.archived += 1;
      else if (result.outcome === 'already-archived') report.alreadyArchived += 1;
      else if (result.outcome === 'skipped') report.skipped += 1;
      else report.failed += 1;
      if (result.pruned) report.pruned += 1;
      if (result.outcome === 'archived') report.events += result.eventCount;
    }
  } finally {
    if (owned) archive.destroy();
  }
  return report;
}

async function archiveOne(
  from: EventStore,
  archive: S3Archive,
  tenantId: string,
  traceId: string,
  prune: boolean,
  now: Date,
): Promise<ArchiveTraceResult> {
  let summary: TraceSummary | undefined;
  try {
    summary = await from.summary(tenantId, traceId);
    if (!summary) throw new TraceNotFoundError(tenantId, traceId);
    if (summary.status === 'running') {
      return { traceId, outcome: 'skipped', eventCount: summary.eventCount, pruned: false, reason: 'still running' };
    }
    const events = await readAll(from, tenantId, traceId);
    const { outcome, manifest } = await archive.writeTrace(summary, events, now);
    let pruned = false;
    if (prune) {
      // read the object back and check it against what we hold before the hot copy goes
      const back = await archive.readTrace(tenantId, traceId);
      const lastHere = events[events.length - 1];
      if (back.manifest.lastHash !== lastHere?.hash || back.events.length !== events.length) {
        throw new StoreCorruptError(
          `The archived copy of trace "${traceId}" read back from ${archive.location} differs from the hot store; the hot copy was kept.`,
          'Investigate before pruning: `retrace show` both copies.',
        );
      }
      pruned = await from.deleteTrace(tenantId, traceId);
    }
    return { traceId, outcome, eventCount: manifest.eventCount, pruned, objectKey: manifest.objectKey };
  } catch (err) {
    const error = asRetraceError(err);
    return {
      traceId,
      outcome: 'failed',
      eventCount: summary?.eventCount ?? 0,
      pruned: false,
      reason: error.message,
      error,
    };
  }
}

export interface RestoreOptions {
  /** s3://bucket/prefix?…, or any EventStore to copy from (an S3EventStore for the archive) */
  from: string | EventStore;
  to: EventStore;
  tenantId: string;
  traceIds: readonly string[];
  /** events per append (default 1000: group commit in the embedded store, split further by KurrentDB) */
  batchSize?: number;
  onProgress?: (result: RestoreTraceResult) => void;
}

export interface RestoreTraceResult {
  traceId: string;
  outcome: 'restored' | 'already-present' | 'failed';
  eventCount: number;
  /** events that were already in the target (idempotent re-run) */
  duplicates: number;
  reason?: string;
  error?: RetraceError;
}

export interface RestoreReport {
  tenantId: string;
  results: RestoreTraceResult[];
  restored: number;
  failed: number;
  events: number;
}

/** Copies archived traces back into a hot store with their original eventIds: running it twice changes nothing. */
export async function restoreTraces(options: RestoreOptions): Promise<RestoreReport> {
  assertTenantId(options.tenantId);
  for (const id of options.traceIds) assertTraceId(id);
  const owned = typeof options.from === 'string';
  const source: EventStore = typeof options.from === 'string' ? S3EventStore.fromUrl(options.from) : options.from;
  const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 1000));
  const report: RestoreReport = { tenantId: options.tenantId, results: [], restored: 0, failed: 0, events: 0 };
  try {
    for (const traceId of options.traceIds) {
      const result = await restoreOne(source, options.to, options.tenantId, traceId, batchSize);
      report.results.push(result);
      if (result.outcome === 'failed') report.failed += 1;
      else report.restored += 1;
      report.events += result.eventCount - result.duplicates;
      options.onProgress?.(result);
    }
  } finally {
    if (owned) await source.close();
  }
  return report;
}

async function restoreOne(
  source: EventStore,
  target: EventStore,
  tenantId: string,
  traceId: string,
  batchSize: number,
): Promise<RestoreTraceResult> {
  let events: StoredEvent[] = [];
  try {
    // the source verifies the whole trace before the first event arrives (S3: sha256 + hash chain)
    events = await readAll(source, tenantId, traceId);
    let duplicates = 0;
    for (let i = 0; i < events.length; i += batchSize) {
      const batch = events.slice(i, i + batchSize);
      const res = await target.append(tenantId, traceId, batch.map(toNewEvent), { expectedRevision: 'any' });
      duplicates += res.positions.filter((p) => p.duplicate).length;
    }
    // prove the restored chain is the archived one: same tip hash at the same seq
    const last = events[events.length - 1];
    let tip: StoredEvent | undefined;
    if (last) for await (const e of target.read(tenantId, traceId, { fromSeq: last.seq, toSeq: last.seq })) tip = e;
    if (!last || tip?.hash !== last.hash) {
      throw new StoreCorruptError(
        `Trace "${traceId}" in ${target.location} does not end with the archived hash after the restore: the target already held a different trace under this id.`,
        'Restore into another store or tenant, or remove the conflicting trace from the target first.',
      );
    }
    return {
      traceId,
      outcome: duplicates === events.length ? 'already-present' : 'restored',
      eventCount: events.length,
      duplicates,
    };
  } catch (err) {
    const error = asRetraceError(err);
    return { traceId, outcome: 'failed', eventCount: events.length, duplicates: 0, reason: error.message, error };
  }
}
