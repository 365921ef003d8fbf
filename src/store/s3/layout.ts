import { assertTenantId, assertTraceId } from '../../events/ids.js';

/**
 * Object keys. Tenant and trace ids cannot contain '/' (events/ids.ts), so `<prefix>/<tenant>/` is a namespace no
 * other tenant can reach, and a prefix listing of one tenant never returns another's keys.
 *
 *   <prefix>/<tenant>/traces/<traceId>.ndjson.gz       the trace: one StoredEvent per line, gzip
 *   <prefix>/<tenant>/traces/<traceId>.manifest.json   its manifest (counts, sha256, listing fields); written last
 *   <prefix>/<tenant>/index/<inverted start>_<traceId>.json   a copy of the manifest, named so that S3's ascending
 *        key order is newest-first: `list` pages through it with a Marker instead of reading every manifest
 */
const MAX_MS = 9_999_999_999_999;

function root(prefix: string, tenantId: string): string {
  assertTenantId(tenantId);
  return `${prefix ? `${prefix}/` : ''}${tenantId}/`;
}

export function dataKey(prefix: string, tenantId: string, traceId: string): string {
  assertTraceId(traceId);
  return `${root(prefix, tenantId)}traces/${traceId}.ndjson.gz`;
}

export function manifestKey(prefix: string, tenantId: string, traceId: string): string {
  assertTraceId(traceId);
  return `${root(prefix, tenantId)}traces/${traceId}.manifest.json`;
}

export function indexPrefix(prefix: string, tenantId: string): string {
  return `${root(prefix, tenantId)}index/`;
}

/** 13 digits, larger for older traces; a trace without a start sorts last, like NULLs in the embedded store */
export function invertedStart(startedAt: string | null): string {
  const ms = startedAt ? Date.parse(startedAt) : 0;
  const clamped = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_MS) : 0;
  return String(MAX_MS - clamped).padStart(13, '0');
}

export function indexKey(prefix: string, tenantId: string, startedAt: string | null, traceId: string): string {
  assertTraceId(traceId);
  return `${indexPrefix(prefix, tenantId)}${invertedStart(startedAt)}_${traceId}.json`;
}
