import { loadOptional } from '../optional-dependencies.js';
import type { OpenStoreOptions, StoreOpener } from './open-store.js';

/**
 * The non-embedded store backends openStore knows by URL scheme. Each opener imports its client only when called, so
 * loading this file loads neither the KurrentDB nor the AWS client; the clients are optional peer dependencies, so a
 * missing one is reported with the line that installs it (src/optional-dependencies.ts). Each backend adds one entry.
 */
const openKurrent: StoreOpener = async (url: string, options: OpenStoreOptions) =>
  (await loadOptional(['@kurrent/kurrentdb-client'], () => import('./kurrentdb/index.js'))).openKurrentStore(
    url,
    options,
  );
const openS3: StoreOpener = async (url: string) =>
  (await loadOptional(['@aws-sdk/client-s3'], () => import('./s3/index.js'))).openS3Store(url);

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
