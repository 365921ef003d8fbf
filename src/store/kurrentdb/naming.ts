import { createHash } from 'node:crypto';
import { assertTenantId, assertTraceId } from '../../events/ids.js';

/**
 * Stream naming: a stream per trace, and KurrentDB's `$ce-` category stream for listing.
 *
 * KurrentDB's `$by_category` projection puts a stream into the category named by everything before its FIRST '-'.
 * A tenant's traces must share one category, so the tenant part of the name may not contain '-'; but tenant ids may
 * (alphabet [A-Za-z0-9._-]). We therefore encode the tenant by replacing every '-' with '~' — '~' is outside the tenant
 * alphabet, so the encoding is injective (two tenants never share a category) and reversible.
 *
 *   trace stream   retrace_<enc(tenant)>-<traceId>     e.g. tenant "acme-eu", trace "tr_1"  →  retrace_acme~eu-tr_1
 *   its category   retrace_<enc(tenant)>               read as $ce-retrace_acme~eu (events) / $category-… (streams)
 *   trace index    retraceidx_<enc(tenant)>            our own per-tenant list of traces (no '-' ⇒ its own category)
 *
 * The trace id goes after the first '-', where '-' is harmless. The `retrace_` prefix keeps our streams apart from
 * other applications sharing the database.
 */
export const TRACE_STREAM_PREFIX = 'retrace_';
export const INDEX_STREAM_PREFIX = 'retraceidx_';

export function encodeTenant(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId.replaceAll('-', '~');
}

export function decodeTenant(encoded: string): string {
  return encoded.replaceAll('~', '-');
}

export function traceCategory(tenantId: string): string {
  return `${TRACE_STREAM_PREFIX}${encodeTenant(tenantId)}`;
}

export function traceStreamName(tenantId: string, traceId: string): string {
  assertTraceId(traceId);
  return `${traceCategory(tenantId)}-${traceId}`;
}

/** The `$ce-` stream the standard projections fill with links to every event of the tenant's traces. */
export function categoryEventsStream(tenantId: string): string {
  return `$ce-${traceCategory(tenantId)}`;
}

export function indexStreamName(tenantId: string): string {
  return `${INDEX_STREAM_PREFIX}${encodeTenant(tenantId)}`;
}

/** Inverse of traceStreamName, or undefined for streams that are not retrace traces. */
export function parseTraceStreamName(stream: string): { tenantId: string; traceId: string } | undefined {
  if (!stream.startsWith(TRACE_STREAM_PREFIX)) return undefined;
  const dash = stream.indexOf('-');
  if (dash < 0) return undefined;
  const tenantId = decodeTenant(stream.slice(TRACE_STREAM_PREFIX.length, dash));
  const traceId = stream.slice(dash + 1);
  return tenantId.length > 0 && traceId.length > 0 ? { tenantId, traceId } : undefined;
}

/**
 * Revisions. Our `seq` is 0-based and gapless per trace; a KurrentDB revision is 0-based per stream. They are equal
 * for a stream that was never deleted. A soft-deleted stream that is written again continues at its old last revision
 * + 1, so every trace remembers `base` = the revision of its seq 0, and revision = base + seq. Revisions are bigint in
 * the client; seqs stay plain numbers (≤ LIMITS.maxTraceEvents).
 */
export function revisionOf(base: bigint, seq: number): bigint {
  return base + BigInt(seq);
}

export function seqOf(base: bigint, revision: bigint): number {
  return Number(revision - base);
}

/** Our ExpectedRevision after `lastSeq` (-1: no events) → the client's streamState for the next append. */
export function streamStateFor(base: bigint, lastSeq: number, deletedAt: bigint | null): 'no_stream' | bigint {
  if (lastSeq >= 0) return revisionOf(base, lastSeq);
  // a trace with no events: a fresh stream, or a soft-deleted one whose revisions continue after `deletedAt`
  return deletedAt === null ? 'no_stream' : deletedAt;
}

/** KurrentDB's reported state → a string for ConcurrencyError, in our terms (seq, not revision). */
export function describeStreamState(state: unknown, base: bigint): string {
  if (typeof state === 'bigint') return String(seqOf(base, state));
  if (state === 'no_stream' || state === undefined) return 'no_stream';
  return String(state);
}

/**
 * Deterministic UUIDs (RFC 9562 v8 layout, from sha256) for the events retrace writes on its own behalf (index
 * entries): a retried write carries the same id, so KurrentDB's idempotency check drops the repeat.
 */
export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
