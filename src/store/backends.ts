/**
 * Registers the non-embedded store backends with openStore. Imported lazily by openStore, so their clients load only
 * when such a URL is used; the clients are optional peer dependencies, so a missing one is reported with the line
 * that installs it (src/optional-dependencies.ts). Each backend adds one line here.
 */
import { loadOptional } from '../optional-dependencies.js';
import { registerStoreBackend } from './open-store.js';

// the scheme list is repeated here (not imported) so that loading this file loads neither client
registerStoreBackend(
  ['kurrentdb', 'kurrent', 'kdb', 'esdb', 'kurrentdb+discover', 'kurrent+discover', 'kdb+discover', 'esdb+discover'],
  async (url, options) =>
    (await loadOptional(['@kurrent/kurrentdb-client'], () => import('./kurrentdb/index.js'))).openKurrentStore(
      url,
      options,
    ),
);
registerStoreBackend(['s3'], async (url) =>
  (await loadOptional(['@aws-sdk/client-s3'], () => import('./s3/index.js'))).openS3Store(url),
);
