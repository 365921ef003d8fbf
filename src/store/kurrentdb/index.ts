import * as z from 'zod';
import { UnsupportedStoreUrlError } from '../../errors.js';
import type { EventStore } from '../types.js';
import type { KurrentClientLike } from './kurrentdb-store.js';
import { DEFAULT_MAX_APPEND_BYTES } from './batching.js';
import { KurrentDbEventStore, type KurrentStoreOptions } from './kurrentdb-store.js';

export { KurrentDbEventStore, type KurrentClientLike, type KurrentStoreOptions } from './kurrentdb-store.js';
export { translateKurrentError } from './errors.js';
export { splitBySize, DEFAULT_MAX_APPEND_BYTES } from './batching.js';
export * from './naming.js';

/** URL schemes the KurrentDB client accepts (esdb:// still works but the client prints a deprecation warning). */
export const KURRENTDB_SCHEMES = [
  'kurrentdb',
  'kurrent',
  'kdb',
  'esdb',
  'kurrentdb+discover',
  'kurrent+discover',
  'kdb+discover',
  'esdb+discover',
] as const;

/** Our own query parameters; everything else in the URL belongs to the client's connection string. */
const OwnParamsSchema = z.object({
  maxAppendSize: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(16 * 1024 * 1024)
    .optional(),
});

export interface ParsedKurrentUrl {
  /** the connection string handed to the client, without our own parameters */
  connectionString: string;
  /** for messages: no user or password */
  location: string;
  maxAppendBytes: number;
}

export function parseKurrentUrl(url: string): ParsedKurrentUrl {
  const m = /^([a-z+]+):\/\/([^?#]*)(\?[^#]*)?$/i.exec(url.trim());
  const scheme = m?.[1]?.toLowerCase();
  if (!m || scheme === undefined || !(KURRENTDB_SCHEMES as readonly string[]).includes(scheme)) {
    throw new UnsupportedStoreUrlError(
      `"${url.replace(/\/\/[^@/]*@/, '//***@')}" is not a KurrentDB connection string.`,
      'Write kurrentdb://HOST:2113?tls=false (one node) or kurrentdb://a:2113,b:2113,c:2113 (cluster).',
      'store',
    );
  }
  const hosts = m[2] ?? '';
  const params = new URLSearchParams((m[3] ?? '').slice(1));
  const own = OwnParamsSchema.safeParse({ maxAppendSize: params.get('maxAppendSize') ?? undefined });
  if (!own.success) {
    throw new UnsupportedStoreUrlError(
      `maxAppendSize=${params.get('maxAppendSize') ?? ''} in the store URL is not a byte count between 64 KiB and 16 MiB.`,
      "Set it to the server's MaxAppendSize in bytes, e.g. ?maxAppendSize=4194304, or leave it out for the 1 MiB default.",
      'store',
    );
  }
  params.delete('maxAppendSize');
  const query = params.toString();
  const connectionString = `${scheme}://${hosts}${query ? `?${query}` : ''}`;
  const location = `${scheme}://${hosts.replace(/^[^@/]*@/, '')}`;
  return { connectionString, location, maxAppendBytes: own.data.maxAppendSize ?? DEFAULT_MAX_APPEND_BYTES };
}

/** Opens a KurrentDB-backed store. The client connects lazily, so an unreachable server shows on first use. */
export async function openKurrentStore(
  url: string,
  options: Omit<KurrentStoreOptions, 'maxAppendBytes'> = {},
): Promise<EventStore> {
  const parsed = parseKurrentUrl(url);
  const { KurrentDBClient } = await import('@kurrent/kurrentdb-client');
  let client: KurrentClientLike;
  try {
    client = KurrentDBClient.connectionString(parsed.connectionString);
  } catch (err) {
    throw new UnsupportedStoreUrlError(
      `The KurrentDB connection string for ${parsed.location} is not valid: ${err instanceof Error ? err.message : String(err)}`,
      'See https://docs.kurrent.io for the connection string format, e.g. kurrentdb://localhost:2113?tls=false.',
      'store',
      { cause: err },
    );
  }
  return new KurrentDbEventStore(client, parsed.location, { ...options, maxAppendBytes: parsed.maxAppendBytes });
}
