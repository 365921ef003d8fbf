import { ReadOnlyStoreError } from '../../errors.js';
import type { NewEvent, StoredEvent } from '../../events/envelope.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ListFilter,
  ReadRange,
  TracePage,
  TraceSummary,
} from '../types.js';
import { summaryOfManifest } from './manifest.js';
import { assertIds, S3Archive } from './s3-archive.js';

/**
 * `s3://bucket/prefix` as a read-only EventStore: replay, show and list work straight from the archive. Every read
 * verifies the whole trace (sha256, gzip, hash chain) before yielding its first event.
 */
export class S3EventStore implements EventStore {
  readonly kind = 's3';
  readonly readOnly = true;
  readonly location: string;

  constructor(readonly archive: S3Archive) {
    this.location = archive.location;
  }

  static fromUrl(url: string): S3EventStore {
    return new S3EventStore(S3Archive.fromUrl(url));
  }

  private refuse(what: string): never {
    throw new ReadOnlyStoreError(
      `The S3 archive ${this.location} is read-only: ${what} is not possible there.`,
      'Restore the trace into a hot store first (`retrace restore`), or point --store at sqlite:… / kurrentdb://….',
    );
  }

  async append(
    _tenantId: string,
    _traceId: string,
    _events: readonly NewEvent[],
    _options?: AppendOptions,
  ): Promise<AppendResult> {
    this.refuse('append');
  }

  async deleteTrace(_tenantId: string, _traceId: string): Promise<boolean> {
    this.refuse('deleting a trace');
  }

  /** Every error, a bad id included, surfaces on iteration (as in the embedded store). */
  async *read(tenantId: string, traceId: string, range: ReadRange = {}): AsyncGenerator<StoredEvent> {
    assertIds(tenantId, traceId);
    const { events } = await this.archive.readTrace(tenantId, traceId);
    const from = Math.max(0, range.fromSeq ?? 0);
    const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (const e of events) if (e.seq >= from && e.seq <= to) yield e;
  }

  list(tenantId: string, filter?: ListFilter): Promise<TracePage> {
    return this.archive.list(tenantId, filter);
  }

  async exists(tenantId: string, traceId: string): Promise<boolean> {
    return (await this.summary(tenantId, traceId)) !== undefined;
  }

  async summary(tenantId: string, traceId: string): Promise<TraceSummary | undefined> {
    assertIds(tenantId, traceId);
    const m = await this.archive.manifest(tenantId, traceId);
    return m ? summaryOfManifest(m) : undefined;
  }

  async close(): Promise<void> {
    this.archive.destroy();
  }
}
