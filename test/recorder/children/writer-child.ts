/**
 * A child process for the writer-thread tests (test/recorder/writer.test.ts): records one run into the store URL
 * sqlite:<argv[2]> — so the recorder writes from its worker thread — and then, depending on argv[3]:
 *   exit         — a first batch is written (the worker is running), more events are queued, process.exit(0)
 *   exit-early   — process.exit(0) before any batch was written (no worker started yet)
 *   throw        — like exit, but an uncaught exception ends the process
 *   hang         — prints READY <traceId> once the first batch is durable, more events queued, then waits for a signal
 * In every mode it prints TRACE <traceId>, and at exit MAIN_THREAD_APPENDS <n>: how many appends ran on this thread.
 */
import { writeSync } from 'node:fs';
import { createRecorder } from '../../../src/recorder/index.js';
import { SqliteEventStore } from '../../../src/store/sqlite/sqlite-store.js';

const [, , path, mode] = process.argv;
let mainThreadAppends = 0;
const appendSync = SqliteEventStore.prototype.appendSync;
SqliteEventStore.prototype.appendSync = function (this: SqliteEventStore, ...args: Parameters<typeof appendSync>) {
  mainThreadAppends++;
  return appendSync.apply(this, args);
};

const recorder = createRecorder({
  store: `sqlite:${path}`,
  tenant: 'wr',
  captureHttp: false,
  flushIntervalMs: mode === 'exit-early' ? 600_000 : 5,
});
const add = recorder.tool('add', async (a: number, b: number) => a + b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void recorder.run({ agent: `writer-${mode}` }, async (ctx) => {
  // registered after the recorder's own exit handler (installed with the run), so it runs after the final flush
  process.on('exit', () => writeSync(1, `MAIN_THREAD_APPENDS ${mainThreadAppends}\n`));
  await add(1, 2);
  if (mode !== 'exit-early') {
    // the first batch committed by the worker: the writer thread is running
    for (let i = 0; i < 500 && !(await written(ctx.traceId)); i++) await sleep(10);
  }
  await add(3, 4);
  // queued in the same tick as the exit: only the exit-time flush can write these
  for (let i = 0; i < 5; i++) ctx.event('decision_made', { decision: `late ${i}` });
  process.stdout.write(`TRACE ${ctx.traceId}\n`);
  if (mode === 'exit' || mode === 'exit-early') process.exit(0);
  if (mode === 'throw')
    setImmediate(() => {
      throw new Error('escaped the agent');
    });
  if (mode === 'hang') {
    process.stdout.write(`READY ${ctx.traceId}\n`);
    setInterval(() => undefined, 1000);
  }
  await new Promise(() => undefined);
});

let reader: SqliteEventStore | undefined;
/** whether the worker has committed anything of the trace yet (read from this thread, without counting as a write) */
async function written(traceId: string): Promise<boolean> {
  reader ??= new SqliteEventStore(path!);
  return (await reader.summary('wr', traceId)) !== undefined;
}
