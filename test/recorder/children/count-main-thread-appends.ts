/**
 * Preloaded before the zero-code recorder (test/recorder/register.test.ts): counts the embedded store's appends that
 * run on the main thread, and prints MAIN_THREAD_APPENDS <n> on stderr when the process exits. Its exit listener is
 * registered before the recorder's, so it counts what the run wrote before the exit-time flush.
 */
import { writeSync } from 'node:fs';
import { SqliteEventStore } from '../../../src/store/sqlite/sqlite-store.js';

let count = 0;
const proto = SqliteEventStore.prototype;
const append = proto.append;
const appendSync = proto.appendSync;
proto.append = function (this: SqliteEventStore, ...args: Parameters<typeof append>) {
  count++;
  return append.apply(this, args);
};
proto.appendSync = function (this: SqliteEventStore, ...args: Parameters<typeof appendSync>) {
  count++;
  return appendSync.apply(this, args);
};
process.on('exit', () => writeSync(2, `MAIN_THREAD_APPENDS ${count}\n`));
