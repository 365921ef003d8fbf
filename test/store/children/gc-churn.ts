/**
 * Child for test/store/sqlite-gc.test.ts: opens, uses and closes many embedded stores, drops every reference and forces
 * garbage collection — from JavaScript and from idle time — so any better-sqlite3 Statement or Database the store let
 * go of is finalized here. On Node 24 with better-sqlite3 12 such a finalizer aborts the process (SIGABRT in
 * node::RemoveEnvironmentCleanupHook); src/store/sqlite/sqlite-store.ts keeps them reachable so that cannot happen.
 */
import { join } from 'node:path';
import { SqliteEventStore } from '../../../src/store/sqlite/sqlite-store.js';
import { TraceBuilder } from '../../helpers/trace-builder.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: gc-churn.ts DIR');
const gc = (globalThis as { gc?: (options?: { type: 'major'; execution: 'async' }) => Promise<void> | undefined }).gc;
if (!gc) throw new Error('run with --expose-gc');

for (let round = 0; round < 20; round++) {
  const store = new SqliteEventStore(join(dir, `churn-${round % 3}.db`));
  const traceId = `trace-${round}`;
  await store.append('default', traceId, new TraceBuilder('churn').llm().tool().complete().events);
  for await (const _e of store.read('default', traceId)) {
    /* read it all */
  }
  await store.list('default', { limit: 5 });
  await store.summary('default', traceId);
  await store.close();
  gc();
}
// collections that run from a platform task, with no JavaScript on the stack (where the abort happens)
for (let i = 0; i < 3; i++) {
  await gc({ type: 'major', execution: 'async' });
  await new Promise((resolve) => setTimeout(resolve, 100));
}
console.log('ok');
