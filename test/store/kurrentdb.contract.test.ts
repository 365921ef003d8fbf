import { openStore } from '../../src/store/open-store.js';
import { describeStoreContract } from './contract.js';

/**
 * The shared store contract against a live KurrentDB. No server can run on the build machines, and a fake one would
 * prove nothing, so without KURRENTDB_URL every case is reported as skipped, with that reason.
 * Start one with the container command in docs/scale-out.md, then:
 *   KURRENTDB_URL='kurrentdb://localhost:2113?tls=false' npx vitest run test/store/kurrentdb.contract.test.ts
 */
const url = process.env.KURRENTDB_URL?.trim();

describeStoreContract(
  url ? `KurrentDB (${url.replace(/\/\/[^@/]*@/, '//')})` : 'KurrentDB',
  async () => {
    // every contract test uses fresh tenant ids, so runs never see each other's streams
    const store = await openStore(url);
    return { store, uniqueEventIdsAcrossTraces: false, cleanup: () => store.close() };
  },
  url ? {} : { skip: 'set KURRENTDB_URL to run against a live KurrentDB' },
);
