import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub } from '../../fixtures/llm-stub/index.js';
import { writeNdjsonFile } from '../../src/transfer/ndjson.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { handlersFromTrace } from '../../src/msw/index.js';
import { createRecorder } from '../../src/recorder/index.js';
import { readTrace, tempStore } from '../recorder/helpers.js';

/**
 * agent-retrace/msw as a user's test uses it: a run recorded through the real openai SDK (against the LLM stub, plus
 * a plain HTTP service whose answer changes on every call), exported with the export writer, then answered by msw's
 * real setupServer after both servers are gone — so every answer below can only have come from the recording.
 */
const store = tempStore();
let events: StoredEvent[] = [];
let traceFile = '';
let openaiBaseUrl = '';
let counterUrl = '';

const QUESTION = 'Where is my order A-1001?';
const STREAMED = 'Tell me about retrace in a few words';

async function agent(client: OpenAI): Promise<{ answer: string; streamed: string; counts: number[] }> {
  const completion = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: QUESTION }],
  });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: STREAMED }],
  });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
  // the same request twice: the recording answered 1, then 2
  const counts: number[] = [];
  for (let i = 0; i < 2; i++) counts.push(((await (await fetch(counterUrl)).json()) as { count: number }).count);
  return { answer: completion.choices[0]?.message.content ?? '', streamed, counts };
}

const client = (): OpenAI => new OpenAI({ baseURL: openaiBaseUrl, apiKey: 'sk-test-msw-000000000000', maxRetries: 0 });

let recorded: Awaited<ReturnType<typeof agent>>;

beforeAll(async () => {
  const stub = await startLlmStub({ chunkDelayMs: 5 });
  let count = 0;
  const counter: Server = createServer((_req, res) => {
    count += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count }));
  });
  await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r));
  openaiBaseUrl = stub.openaiBaseUrl;
  counterUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}/count`;
  const recorder = createRecorder({ store: store.store, providers: [stub.openaiBaseUrl] });
  try {
    const run = await recorder.run({ agent: 'msw-agent' }, () => agent(client()));
    recorded = run.output as typeof recorded;
    events = await readTrace(store.store, 'default', run.traceId);
  } finally {
    await recorder.close();
    await stub.close();
    await new Promise((r) => counter.close(r));
  }
  traceFile = join(store.dir, 'trace.ndjson');
  await writeNdjsonFile(traceFile, store.store.read('default', events[0]!.traceId));
});
afterAll(() => store.cleanup());

/** Runs fn with an msw server holding these handlers (requests it saw go to `seen`), closed afterwards. */
async function withMsw<T>(
  handlers: Parameters<typeof setupServer>,
  fn: () => Promise<T>,
  seen: string[] = [],
): Promise<T> {
  const server = setupServer(...handlers);
  server.events.on('request:start', ({ request }) => seen.push(`${request.method} ${request.url}`));
  server.listen({ onUnhandledRequest: 'error' });
  try {
    return await fn();
  } finally {
    server.close();
  }
}

describe('handlersFromTrace', () => {
  it('answers the recorded run from the exported file: same answers, the stream, and identical requests in order', async () => {
    expect(recorded.counts).toEqual([1, 2]);
    expect(recorded.streamed.length).toBeGreaterThan(0);
    const handlers = await handlersFromTrace(traceFile);
    const replayed = await withMsw(handlers, () => agent(client()));
    expect(replayed).toEqual(recorded);
    expect(handlers.misses).toEqual([]);
    expect(handlers.unservedCount()).toBe(0);
  });

  it('serves a stream as SSE chunks the SDK assembles into the recorded text', async () => {
    const handlers = await handlersFromTrace(events);
    const chunks = await withMsw(handlers, async () => {
      const c = client();
      await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] });
      const stream = await c.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: STREAMED }],
      });
      const out: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) out.push(chunk);
      return out;
    });
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(recorded.streamed);
  });

  it('under the error policy, a request not in the recording fails with the miss and the nearest request', async () => {
    const handlers = await handlersFromTrace(traceFile);
    const seen: string[] = [];
    const err = await withMsw(
      handlers,
      () =>
        new OpenAI({ baseURL: openaiBaseUrl, apiKey: 'sk-test-msw-000000000000' }).chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Something else' }] })
          .catch((e: unknown) => e),
      seen,
    );
    // the SDK (default retries on) gave up at once: the answer said not to retry
    expect(seen).toHaveLength(1);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect(String((err as Error).message)).toContain('is not in the recording');
    expect(handlers.misses).toHaveLength(1);
    expect(handlers.misses[0]).toMatchObject({ kind: 'llm', policy: 'error', position: 0 });
    expect(handlers.misses[0]?.diff.some((d) => d.path.startsWith('/body/messages'))).toBe(true);
  });

  it('under nearest, serves the recorded answer at the same position; under live, leaves the request to the next handler', async () => {
    const nearest = await handlersFromTrace(traceFile, { onMiss: 'nearest' });
    const served = await withMsw(nearest, () =>
      client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Other words' }] }),
    );
    expect(served.choices[0]?.message.content).toBe(recorded.answer);
    expect(nearest.misses[0]).toMatchObject({ policy: 'nearest', servedSeq: expect.any(Number) });

    const live = await handlersFromTrace(traceFile, { onMiss: 'live' });
    const fallback = http.post(`${openaiBaseUrl}/chat/completions`, () =>
      HttpResponse.json({ error: { message: 'from the next handler' } }, { status: 418 }),
    );
    const err = await withMsw([...live, fallback], () =>
      client()
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Not recorded' }] })
        .catch((e: unknown) => e),
    );
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(418);
    expect(live.misses[0]).toMatchObject({ policy: 'live' });
  });

  it('refuses a malformed trace and an unknown policy with a clear error', async () => {
    await expect(handlersFromTrace([{ type: 'llm_request' } as unknown as StoredEvent])).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(handlersFromTrace(events, { onMiss: 'sometimes' as unknown as 'error' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('sometimes'),
    });
    await expect(handlersFromTrace(join(store.dir, 'missing.ndjson'))).rejects.toMatchObject({
      code: 'INPUT_FILE_UNREADABLE',
    });
  });
});
