/**
 * A child process for the durability tests: records one run into the store at argv[2] and then, depending on argv[3]:
 *   hang   — prints READY <traceId> once its events are written, then waits forever (the parent SIGKILLs or SIGTERMs it)
 *   exit   — queues events that are not flushed yet (huge flush interval) and calls process.exit(0) mid-run
 *   throw  — an uncaught exception escapes mid-run
 *   exit-llm — three LLM calls (two identical) through fetch to a server in this process, nothing flushed yet, then
 *              process.exit(0): the request keys and response usage, built by the writer, are built in the exit handler
 */
import { createServer } from 'node:http';
import { createRecorder } from '../../../src/recorder/index.js';
import { SqliteEventStore } from '../../../src/store/sqlite/sqlite-store.js';

const [, , path, mode] = process.argv;
const store = new SqliteEventStore(path!);

if (mode === 'exit-llm') {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  const llm = createRecorder({ store, tenant: 'dur', flushIntervalMs: 600_000, providers: [base] });
  const ask = async (content: string) => {
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    });
    return res.json();
  };
  void llm.run({ agent: 'child-exit-llm' }, async (ctx) => {
    await ask('same');
    await ask('same');
    await ask('other');
    process.stdout.write(`TRACE ${ctx.traceId}\n`);
    process.exit(0);
  });
  await new Promise(() => undefined);
}

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
  if (mode === 'throw')
    setTimeout(() => {
      throw new Error('escaped the agent');
    }, 0);
  await new Promise(() => undefined);
});
