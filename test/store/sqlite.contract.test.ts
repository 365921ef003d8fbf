import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { tempDir } from '../helpers/trace-builder.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('embedded SQLite', async () => {
  const dir = tempDir();
  const store = await openStore(`sqlite:${join(dir, 'contract.db')}`);
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
