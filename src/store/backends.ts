import type { OpenStoreOptions, StoreOpener } from './open-store.js';

/**
 * The non-embedded store backends openStore knows by URL scheme. Each opener imports its client only when called, so
 * loading this file loads neither the KurrentDB nor the AWS client. Each backend adds one entry here.
 */
const openKurrent: StoreOpener = async (url: string, options: OpenStoreOptions) =>
  (await import('./kurrentdb/index.js')).openKurrentStore(url, options);
const openS3: StoreOpener = async (url: string) => (await import('./s3/index.js')).openS3Store(url);

export const BUILTIN_BACKENDS: ReadonlyMap<string, StoreOpener> = new Map([
  ...[
    'kurrentdb',
    'kurrent',
    'kdb',
    'esdb',
    'kurrentdb+discover',
    'kurrent+discover',
    'kdb+discover',
    'esdb+discover',
  ].map((scheme) => [scheme, openKurrent] as const),
  ['s3', openS3] as const,
]);
