import type { S3Client } from '@aws-sdk/client-s3';
import { StoreCorruptError, StoreError, TraceNotFoundError } from '../../errors.js';
import type { StoredEvent } from '../../events/envelope.js';
import { assertTenantId, assertTraceId } from '../../events/ids.js';
import { decodeCursor, encodeCursor, type ListCursor } from '../cursor.js';
import type { ListFilter, TracePage, TraceSummary } from '../types.js';
import { S3Bucket } from './bucket.js';
import { createS3Client } from './client.js';
import { decodeTrace, encodeTrace, sha256OfGzip } from './codec.js';
import { dataKey, indexKey, indexPrefix, manifestKey } from './layout.js';
import { parseManifest, summaryOfManifest, type ArchiveManifest } from './manifest.js';
import { parseS3Url, type S3Location } from './url.js';

const MANIFEST_FETCH_CONCURRENCY = 16;

export type WriteOutcome = 'archived' | 'already-archived';

/**
 * The archive under one `s3://bucket/prefix`: writes whole traces create-only, and reads them back fully verified.
 * The read-only EventStore (s3-store.ts) and archive/restore (archive.ts) are both built on it.
 */
export class S3Archive {
  readonly location: string;
  readonly prefix: string;
  readonly bucket: S3Bucket;

  constructor(
    readonly loc: S3Location,
    readonly client: S3Client = createS3Client(loc),
  ) {
    this.location = loc.display;
    this.prefix = loc.prefix;
    this.bucket = new S3Bucket(client, loc.bucket, loc.display);
  }

  static fromUrl(url: string): S3Archive {
    return new S3Archive(parseS3Url(url));
  }

  private where(tenantId: string, traceId: string): string {
    return `${this.location} (tenant "${tenantId}", trace "${traceId}")`;
  }

  /** The trace's manifest, or undefined when the trace is not archived here. */
  async manifest(tenantId: string, traceId: string): Promise<ArchiveManifest | undefined> {
    const key = manifestKey(this.prefix, tenantId, traceId);
    const body = await this.bucket.get(key);
    if (body === undefined) return undefined;
    const m = parseManifest(body, `s3://${this.loc.bucket}/${key}`);
    if (m.tenantId !== tenantId || m.traceId !== traceId || m.objectKey !== dataKey(this.prefix, tenantId, traceId)) {
      throw new StoreCorruptError(
        `The archive manifest s3://${this.loc.bucket}/${key} describes ${m.tenantId}/${m.traceId}, not ${tenantId}/${traceId}.`,
        'Objects were copied or renamed by hand; re-archive the trace from a hot store.',
      );
    }
    return m;
  }

  /** All events of an archived trace, verified against its manifest (TraceNotFoundError when not archived). */
  async readTrace(tenantId: string, traceId: string): Promise<{ manifest: ArchiveManifest; events: StoredEvent[] }> {
    const manifest = await this.manifest(tenantId, traceId);
    if (!manifest) throw new TraceNotFoundError(tenantId, traceId);
    const gz = await this.bucket.get(manifest.objectKey);
    if (gz === undefined) {
      throw new StoreCorruptError(
        `The archived trace ${this.where(tenantId, traceId)} has a manifest but its data object ${manifest.objectKey} is missing.`,
        'Restore the object from a bucket version, or re-archive the trace from a hot store if one still has it.',
      );
    }
    return { manifest, events: await decodeTrace(gz, manifest, this.where(tenantId, traceId)) };
  }

  /**
   * Writes one finished trace: data object, manifest, then index entry — each create-only. Writing the same content
   * again is a no-op ('already-archived', and a missing index entry from an interrupted run is filled in); different
   * content under an existing key is refused, never overwritten.
   */
  async writeTrace(
    summary: TraceSummary,
    events: readonly StoredEvent[],
    archivedAt = new Date(),
  ): Promise<{ outcome: WriteOutcome; manifest: ArchiveManifest }> {
    const { tenantId, traceId } = summary;
    if (summary.status === 'running') {
      throw new StoreError(
        `Trace "${traceId}" is still running; only ended or incomplete traces are archived.`,
        'Wait until it completes, or archive it once it is shown as incomplete.',
      );
    }
    const enc = await encodeTrace(events);
    const existing = await this.manifest(tenantId, traceId);
    if (existing) {
      this.refuseDifferent(existing.sha256, enc.sha256, manifestKey(this.prefix, tenantId, traceId));
      await this.bucket.putIfAbsent(
        indexKey(this.prefix, tenantId, existing.startedAt, traceId),
        Buffer.from(JSON.stringify(existing)),
        'application/json',
      );
      return { outcome: 'already-archived', manifest: existing };
    }
    const objectKey = dataKey(this.prefix, tenantId, traceId);
    if ((await this.bucket.putIfAbsent(objectKey, enc.gz, 'application/gzip')) === 'exists') {
      // a data object without manifest: an archive run stopped half-way. Same content → finish it; else refuse.
      const gz = await this.bucket.get(objectKey);
      const there = gz ? await sha256OfGzip(gz, `s3://${this.loc.bucket}/${objectKey}`) : undefined;
      this.refuseDifferent(there?.sha256 ?? '(unreadable)', enc.sha256, objectKey);
      enc.gz = gz ?? enc.gz;
    }
    const manifest: ArchiveManifest = {
      format: 'retrace-archive',
      version: 1,
      tenantId,
      traceId,
      objectKey,
      eventCount: enc.eventCount,
      firstSeq: enc.firstSeq,
      lastSeq: enc.lastSeq,
      lastHash: enc.lastHash,
      sha256: enc.sha256,
      uncompressedBytes: enc.uncompressedBytes,
      compressedBytes: enc.gz.length,
      archivedAt: archivedAt.toISOString(),
      agent: summary.agent,
      status: summary.status,
      startedAt: summary.startedAt,
      endedAt: summary.endedAt,
      durationMs: summary.durationMs,
      inputTokens: summary.inputTokens,
      outputTokens: summary.outputTokens,
      costUsd: summary.costUsd,
      replayOf: summary.replayOf,
    };
    const body = Buffer.from(JSON.stringify(manifest));
    if (
      (await this.bucket.putIfAbsent(manifestKey(this.prefix, tenantId, traceId), body, 'application/json', true)) ===
      'exists'
    ) {
      // another archiver won the race: accept its manifest only if it describes the same content
      const theirs = await this.manifest(tenantId, traceId);
      this.refuseDifferent(theirs?.sha256 ?? '(unreadable)', enc.sha256, manifestKey(this.prefix, tenantId, traceId));
      return { outcome: 'already-archived', manifest: theirs ?? manifest };
    }
    // index entries are written only after their manifest, and the manifest was absent: no entry can exist yet
    await this.bucket.putIfAbsent(
      indexKey(this.prefix, tenantId, manifest.startedAt, traceId),
      body,
      'application/json',
      true,
    );
    return { outcome: 'archived', manifest };
  }

  private refuseDifferent(there: string, ours: string, key: string): void {
    if (there === ours) return;
    throw new StoreError(
      `s3://${this.loc.bucket}/${key} already holds a different archived copy (sha256 ${there.slice(0, 12)}…, this one ${ours.slice(0, 12)}…); archives are never overwritten.`,
      'Compare the two with `retrace show --store s3://…` and the hot store; delete the archived objects by hand only if you are sure.',
    );
  }

  async list(tenantId: string, filter: ListFilter = {}): Promise<TracePage> {
    assertTenantId(tenantId);
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 50)), 1000);
    const cursor: ListCursor | undefined = filter.cursor !== undefined ? decodeCursor(filter.cursor) : undefined;
    let marker = cursor ? indexKey(this.prefix, tenantId, cursor[0] || null, cursor[1]) : undefined;
    const traces: TraceSummary[] = [];
    let last = cursor;
    for (;;) {
      const page = await this.bucket.listPage(indexPrefix(this.prefix, tenantId), marker, Math.min(1000, limit + 1));
      for (let i = 0; i < page.keys.length; i += MANIFEST_FETCH_CONCURRENCY) {
        const keys = page.keys.slice(i, i + MANIFEST_FETCH_CONCURRENCY);
        const bodies = await Promise.all(keys.map((k) => this.bucket.get(k)));
        for (const [j, body] of bodies.entries()) {
          const key = keys[j] ?? '';
          if (body === undefined) continue; // deleted between list and get
          if (traces.length === limit) return { traces, nextCursor: encodeCursor(last ?? ['', '']) };
          const m = parseManifest(body, `s3://${this.loc.bucket}/${key}`);
          if (m.tenantId !== tenantId) {
            throw new StoreCorruptError(
              `The archive index entry s3://${this.loc.bucket}/${key} belongs to tenant "${m.tenantId}".`,
              "Objects were copied by hand into another tenant's prefix; remove them.",
            );
          }
          last = [m.startedAt ?? '', m.traceId];
          if (matches(m, filter)) traces.push(summaryOfManifest(m));
        }
      }
      if (!page.truncated) return { traces };
      marker = page.keys[page.keys.length - 1];
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

function matches(m: ArchiveManifest, f: ListFilter): boolean {
  if (f.agent !== undefined && m.agent !== f.agent) return false;
  if (f.status !== undefined && m.status !== f.status) return false;
  if (f.startedAfter !== undefined && !(m.startedAt !== null && m.startedAt >= f.startedAfter)) return false;
  if (f.startedBefore !== undefined && !(m.startedAt !== null && m.startedAt <= f.startedBefore)) return false;
  return true;
}

export function assertIds(tenantId: unknown, traceId: unknown): void {
  assertTenantId(tenantId);
  assertTraceId(traceId);
}
