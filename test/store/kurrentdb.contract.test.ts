import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { describeStoreContract } from './contract.js';

/**
 * The shared store contract against a live KurrentDB. No server can run on the build machines, and a fake one would
 * prove nothing, so without KURRENTDB_URL this file says so once and registers one passing test stating why.
 * Start one with the container command in docs/scale-out.md, then:
 *   KURRENTDB_URL='kurrentdb://localhost:2113?tls=false' npx vitest run test/store/kurrentdb.contract.test.ts
 */
const url = process.env.KURRENTDB_URL?.trim();
const SKIP_LINE = 'skipped: set KURRENTDB_URL to run against a live KurrentDB';

if (url) {
  describeStoreContract(`KurrentDB (${url.replace(/\/\/[^@/]*@/, '//')})`, async () => {
    // every contract test uses fresh tenant ids, so runs never see each other's streams
    const store = await openStore(url);
    return { store, uniqueEventIdsAcrossTraces: false, cleanup: () => store.close() };
  });
} else {
  console.log(SKIP_LINE);
  describe('store contract: KurrentDB', () => {
    it(SKIP_LINE, () => {
      expect(process.env.KURRENTDB_URL ?? '').toBe('');
    });
  });
}
