import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import { archiveTraces, S3EventStore } from '../../src/store/s3/index.js';
import { tempDir } from '../helpers/trace-builder.js';
import { startS3rver } from './archive-fixtures.js';
import { describeStoreContract } from './contract.js';

/**
 * The S3 archive runs the shared contract in its read-only mode: the suite seeds each trace by recording it in a
 * scratch embedded store and archiving it through the real archive path (s3rver in a temp dir, random port).
 */
describeStoreContract(
  'S3 archive (read-only, s3rver)',
  async () => {
    const s3 = await startS3rver();
    const dir = tempDir('retrace-s3-contract-');
    const hot = new SqliteEventStore(join(dir, 'seed.db'));
    const store = S3EventStore.fromUrl(s3.url('contract'));
    return {
      store,
      seed: async (tenantId, traceId, events) => {
        await hot.append(tenantId, traceId, events, { expectedRevision: 'no_stream' });
        const report = await archiveTraces({ from: hot, tenantId, traceIds: [traceId], to: store, prune: true });
        const r = report.results[0];
        if (r?.outcome !== 'archived') throw r?.error ?? new Error(`seeding ${traceId} did not archive it`);
      },
      cleanup: async () => {
        await store.close();
        await hot.close();
        await s3.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { readOnly: true },
);
