import { afterAll, beforeAll, expect, test } from 'vitest';
import OpenAI from 'openai';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder, type Recorder } from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, sleep, tempStore, typesOf } from './helpers.js';

/**
 * 20 runs at once in one process, each with interleaved awaits, LLM calls through one shared SDK client, parallel
 * tool calls from one shared wrapped tool, timers and decision events: 20 traces, and no event in the wrong one.
 */
let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 3 });
  t = tempStore();
  recorder = createRecorder({ store: t.store, tenant: 'conc', providers: [stub.openaiBaseUrl] });
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

test('20 concurrent runs produce 20 traces with no event in the wrong trace', async () => {
  const client = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-concurrency-0000000000000000' });
  // one tool wrapper shared by every run: it must attribute each call to the caller's run
  const lookup = recorder.tool('lookup', async (args: { run: number; item: number }) => {
    await sleep(((args.run * 7 + args.item * 3) % 11) + 1);
    return { run: args.run, item: args.item, value: args.run * 100 + args.item };
  });
  const N = 20;
  const results = await Promise.all(
    Array.from({ length: N }, (_, run) =>
      recorder.run({ agent: 'conc', input: { run } }, async (ctx) => {
        await sleep((run * 5) % 13);
        const first = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `run ${run} first` }],
        });
        // parallel tool calls, interleaving with every other run's
        const values = await Promise.all([0, 1, 2].map((item) => lookup({ run, item })));
        ctx.event('decision_made', { decision: `run ${run} decides`, data: { run } });
        await sleep((run * 3) % 7);
        const streamed = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: `run ${run} second` }],
        });
        let text = '';
        for await (const c of streamed) text += c.choices[0]?.delta.content ?? '';
        const bound = ctx.tool('bound', async (n: number) => n * 2);
        await Promise.all([bound(run), bound(run + 1)]);
        return { run, first: first.choices[0]?.message.content ?? '', values, text };
      }),
    ),
  );
  expect(new Set(results.map((r) => r.traceId)).size).toBe(N);

  for (const [run, { traceId, output }] of results.entries()) {
    expect(output.run).toBe(run);
    const events = await readTrace(t.store, 'conc', traceId);
    const types = typesOf(events);
    expect(types[0]).toBe('agent_started');
    expect(types.at(-1)).toBe('agent_completed');
    expect(types.filter((x) => x === 'llm_request')).toHaveLength(2);
    expect(types.filter((x) => x === 'llm_response')).toHaveLength(2);
    expect(types.filter((x) => x === 'tool_call')).toHaveLength(5);
    expect(types.filter((x) => x === 'tool_response')).toHaveLength(5);
    expect(types.filter((x) => x === 'decision_made')).toHaveLength(1);
    for (const e of events) {
      if (e.type === 'llm_request') expect(JSON.stringify(e.payload.body)).toContain(`run ${run} `);
      if (e.type === 'tool_call' && e.payload.tool === 'lookup')
        expect((e.payload.args as { run: number }).run).toBe(run);
      if (e.type === 'tool_call' && e.payload.tool === 'bound') expect([run, run + 1]).toContain(e.payload.args);
      if (e.type === 'tool_response' && e.payload.tool === 'lookup')
        expect((e.payload.result as { run: number }).run).toBe(run);
      if (e.type === 'decision_made') expect(e.payload.data).toEqual({ run });
    }
    // the three parallel lookups: three distinct argument hashes, each occurrence 0
    const calls = events.filter(
      (e): e is StoredEventOf<'tool_call'> => e.type === 'tool_call' && e.payload.tool === 'lookup',
    );
    expect(new Set(calls.map((c) => c.payload.argsHash)).size).toBe(3);
    expect(calls.every((c) => c.payload.occurrence === 0)).toBe(true);
    const llm = events.find((e): e is StoredEventOf<'llm_response'> => e.type === 'llm_response');
    expect(JSON.stringify(llm?.payload.body)).toContain(`run ${run} first`);
    expect(await t.store.summary('conc', traceId)).toMatchObject({ status: 'completed' });
  }
  // outside any run the shared tool records nothing
  expect(await lookup({ run: 99, item: 0 })).toMatchObject({ value: 9900 });
  const page = await t.store.list('conc', { limit: 100 });
  expect(page.traces).toHaveLength(N);
});
