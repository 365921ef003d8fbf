/**
 * A child process for the durability tests: records one run into the store at argv[2] and then, depending on argv[3]:
 *   hang   — prints READY <traceId> once its events are written, then waits forever (the parent SIGKILLs or SIGTERMs it)
 *   exit   — queues events that are not flushed yet (huge flush interval) and calls process.exit(0) mid-run
 *   throw  — an uncaught exception escapes mid-run
 */
import { createRecorder } from '../../../src/recorder/index.js';
import { SqliteEventStore } from '../../../src/store/sqlite/sqlite-store.js';

const [, , path, mode] = process.argv;
const store = new SqliteEventStore(path!);
const recorder = createRecorder({ store, tenant: 'dur', flushIntervalMs: mode === 'hang' ? 10 : 600_000 });
const add = recorder.tool('add', async (a: number, b: number) => a + b);

void recorder.run({ agent: `child-${mode}`, input: { mode } }, async (ctx) => {
  await add(1, 2);
  ctx.event('decision_made', { decision: 'keep going' });
  await add(3, 4);
  if (mode === 'hang') {
    await new Promise((r) => setTimeout(r, 200));
    process.stdout.write(`READY ${ctx.traceId}\n`);
    setInterval(() => undefined, 1000);
    await new Promise(() => undefined);
  }
  process.stdout.write(`TRACE ${ctx.traceId}\n`);
  if (mode === 'exit') process.exit(0);
  if (mode === 'throw') setTimeout(() => { throw new Error('escaped the agent'); }, 0);
  await new Promise(() => undefined);
});
