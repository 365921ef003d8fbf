/**
 * Registers the non-embedded store backends with openStore. Imported lazily by openStore, so their clients load only
 * when such a URL is used. Each backend adds one line here.
 */
import { registerStoreBackend } from './open-store.js';

// the scheme list is repeated here (not imported) so that loading this file loads neither client
registerStoreBackend(
  ['kurrentdb', 'kurrent', 'kdb', 'esdb', 'kurrentdb+discover', 'kurrent+discover', 'kdb+discover', 'esdb+discover'],
  async (url, options) => (await import('./kurrentdb/index.js')).openKurrentStore(url, options),
);
registerStoreBackend(['s3'], async (url) => (await import('./s3/index.js')).openS3Store(url));
