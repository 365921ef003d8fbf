export { S3EventStore } from './s3-store.js';
export { S3Archive, type WriteOutcome } from './s3-archive.js';
export {
  archiveTraces,
  restoreTraces,
  type ArchiveOptions,
  type ArchiveReport,
  type ArchiveTraceResult,
  type RestoreOptions,
  type RestoreReport,
  type RestoreTraceResult,
} from './archive.js';
export { ArchiveManifestSchema, type ArchiveManifest } from './manifest.js';
export { parseS3Url, type S3Location } from './url.js';
export { dataKey, manifestKey, indexKey } from './layout.js';
export { translateS3Error } from './client.js';

import type { EventStore } from '../types.js';
import { S3EventStore } from './s3-store.js';

/** Opens `s3://bucket/prefix?…` as a read-only store (openStore's opener for the s3 scheme). */
export async function openS3Store(url: string): Promise<EventStore> {
  return S3EventStore.fromUrl(url);
}
