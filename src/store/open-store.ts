import { UnsupportedStoreUrlError } from '../errors.js';
import { BUILTIN_BACKENDS } from './backends.js';
import { DEFAULT_SQLITE_PATH, SqliteEventStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { EventStore } from './types.js';

/**
 * The one way the recorder, the replay engine and the CLI get a store. Store URLs:
 *   sqlite:PATH            the embedded store (default: sqlite:.retrace/retrace.db)
 *   kurrentdb://host:2113  KurrentDB (also kurrent://, kdb://, esdb://, and the +discover forms)
 *   s3://bucket/prefix     the S3 archive (read-only)
 * Default: $RETRACE_STORE, else the embedded store. Backends other than SQLite load lazily, so a laptop user never
 * pays for the KurrentDB or AWS clients.
 */
export type StoreOpener = (url: string, options: OpenStoreOptions) => Promise<EventStore>;

export interface OpenStoreOptions extends SqliteStoreOptions {
  /** read-only for backends that support both */
  readOnly?: boolean;
}

const openers = new Map<string, StoreOpener>();

/** More backends by URL scheme, besides the built-in ones (src/store/backends.ts); a registered scheme wins. */
export function registerStoreBackend(schemes: readonly string[], opener: StoreOpener): void {
  for (const s of schemes) openers.set(s, opener);
}

export function defaultStoreUrl(): string {
  const fromEnv = process.env.RETRACE_STORE;
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : `sqlite:${DEFAULT_SQLITE_PATH}`;
}

export function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const rest = url.slice('sqlite:'.length);
  // accept sqlite:///abs/path and sqlite://rel the way people write file URLs
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

export async function openStore(url: string = defaultStoreUrl(), options: OpenStoreOptions = {}): Promise<EventStore> {
  const sqlitePath = sqlitePathOf(url);
  if (sqlitePath !== undefined) {
    if (sqlitePath === '' || sqlitePath.includes('\0')) {
      throw new UnsupportedStoreUrlError(
        `The store URL "${url}" names no file.`,
        'Write sqlite:PATH, e.g. sqlite:.retrace/retrace.db.',
        'store',
      );
    }
    return new SqliteEventStore(sqlitePath, options);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new UnsupportedStoreUrlError(
      `"${url}" is not a store URL.`,
      'Use sqlite:PATH, kurrentdb://HOST:2113?tls=false or s3://BUCKET/PREFIX (flag --store or env RETRACE_STORE).',
      'store',
    );
  }
  const opener = openers.get(scheme) ?? BUILTIN_BACKENDS.get(scheme);
  if (!opener) {
    throw new UnsupportedStoreUrlError(
      `Store URLs starting with "${scheme}:" are not supported.`,
      'Use sqlite:PATH, kurrentdb://HOST:2113?tls=false or s3://BUCKET/PREFIX.',
      'store',
    );
  }
  return opener(url, options);
}
