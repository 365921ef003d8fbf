import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import OpenAI from 'openai';
import type { StoredEvent, StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder, type Recorder } from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * Failures are recorded, and the agent sees exactly the error it would have seen without the recorder:
 * HTTP 429/500 (status + error), network errors (status 0 + error), thrown tool errors, and an agent that throws.
 */
let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;
let closedPort: number;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 5, retryAfterMs: 5 });
  t = tempStore();
  recorder = createRecorder({ store: t.store, providers: [stub.openaiBaseUrl] });
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedPort = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

const client = () =>
  new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-failures-000000000000000000', maxRetries: 0 });

/** what an agent can observe of an error */
function observable(err: unknown): Record<string, unknown> {
  const e = err as {
    constructor: { name: string };
    name?: string;
    message?: string;
    status?: number;
    code?: unknown;
    cause?: { code?: unknown };
  };
  return {
    class: e.constructor.name,
    name: e.name,
    message: e.message,
    status: e.status,
    code: e.code,
    causeCode: e.cause?.code,
  };
}

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function recordedFailure(
  agent: string,
  fn: () => Promise<unknown>,
): Promise<{ error: unknown; events: StoredEvent[] }> {
  let traceId = '';
  const error = await caught(() =>
    recorder.run({ agent }, async (ctx) => {
      traceId = ctx.traceId;
      return fn();
    }),
  );
  return { error, events: await readTrace(t.store, 'default', traceId) };
}

function only<T extends StoredEvent['type']>(events: StoredEvent[], type: T): StoredEventOf<T>['payload'] {
  const found = events.filter((e) => e.type === type);
  expect(found).toHaveLength(1);
  return (found[0] as unknown as { payload: StoredEventOf<T>['payload'] }).payload;
}

describe('HTTP errors', () => {
  for (const status of [429, 500]) {
    test(`${status} from the provider: recorded with status and error; the SDK error is unchanged`, async () => {
      const call = () =>
        client().chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `boom [[fail:${status}]]` }],
        });
      const bare = await caught(call);
      const { error, events } = await recordedFailure(`http-${status}`, call);
      expect(observable(error)).toEqual(observable(bare));
      expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_failed']);
      const res = only(events, 'llm_response');
      expect(res.status).toBe(status);
      expect(res.error?.name).toBe('HttpError');
      expect(res.error?.message).toContain('(stub)');
      expect(res.body).toMatchObject({ error: { message: expect.any(String) } });
      const failed = only(events, 'agent_failed');
      expect(failed.error.name).toBe((bare as Error).name);
      expect(failed.error.message).toBe((bare as Error).message);
    });
  }
});

describe('network errors', () => {
  test('fetch to a closed port: status 0 + error; the same TypeError reaches the agent', async () => {
    const call = () => fetch(`http://127.0.0.1:${closedPort}/v1/things`, { method: 'POST', body: '{}' });
    const bare = await caught(call);
    const { error, events } = await recordedFailure('net-fetch', call);
    expect(observable(error)).toEqual(observable(bare));
    expect(typesOf(events)).toEqual(['agent_started', 'http_request', 'http_response', 'agent_failed']);
    const res = only(events, 'http_response');
    expect(res.status).toBe(0);
    expect(res.error).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });

  test('the SDK against a dropped connection: APIConnectionError, recorded as status 0', async () => {
    const call = () =>
      client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x [[drop]]' }] });
    const bare = await caught(call);
    const { error, events } = await recordedFailure('net-sdk', call);
    expect(observable(error)).toEqual(observable(bare));
    const res = only(events, 'llm_response');
    expect(res.status).toBe(0);
    expect(res.error?.message).toBeTruthy();
    expect(res.costUsd).toBeNull();
  });

  test('node:http to a closed port: the "error" event fires as before (ECONNREFUSED), recorded as status 0', async () => {
    const call = () =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${closedPort}/x`, resolve);
        req.on('error', reject);
        req.end();
      });
    const bare = await caught(call);
    const { error, events } = await recordedFailure('net-http', call);
    expect(observable(error)).toEqual(observable(bare));
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    const res = only(events, 'http_response');
    expect(res.status).toBe(0);
    expect(res.error?.code).toBe('ECONNREFUSED');
  });

  test('a stream cut mid-way: the chunks that arrived are recorded with the error', async () => {
    const c = client();
    const { events } = await recordedFailure('net-cut', async () => {
      const stream = await c.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'long answer please [[cut:3]]' }],
      });
      for await (const _ of stream) {
        // consume until it breaks
      }
      throw new Error('the stream should have failed');
    });
    const res = only(events, 'llm_response');
    expect(res.status).toBe(200);
    expect(res.chunks?.length).toBeGreaterThanOrEqual(1);
    expect(res.error).toBeDefined();
  });
});

describe('tools and agents that throw', () => {
  test('a thrown tool error is recorded in tool_response.error and rethrown as the same object', async () => {
    class OutOfStock extends Error {
      override name = 'OutOfStock';
      code = 'E_STOCK';
    }
    const thrown = new OutOfStock('no more widgets');
    const { error, events } = await recordedFailure('tool-throws', async () => {
      const reserve = recorder.tool('reserve', async (_args: { sku: string }) => {
        throw thrown;
      });
      await reserve({ sku: 'W-1' });
    });
    expect(error).toBe(thrown);
    expect(typesOf(events)).toEqual(['agent_started', 'tool_call', 'tool_response', 'agent_failed']);
    const res = only(events, 'tool_response');
    expect(res.error).toMatchObject({ name: 'OutOfStock', message: 'no more widgets', code: 'E_STOCK' });
    expect(res.error?.stack).toContain('no more widgets');
    expect(res.result).toBeUndefined();
  });

  test('a tool error the agent catches: recorded, and the run still completes', async () => {
    const { output, traceId } = await recorder.run({ agent: 'tool-caught' }, async (ctx) => {
      const flaky = ctx.tool('flaky', async () => {
        throw new RangeError('bad range');
      });
      try {
        await flaky();
      } catch (err) {
        return (err as Error).name;
      }
      return 'no error';
    });
    expect(output).toBe('RangeError');
    const events = await readTrace(t.store, 'default', traceId);
    expect(typesOf(events)).toEqual(['agent_started', 'tool_call', 'tool_response', 'agent_completed']);
    expect(only(events, 'tool_response').error?.name).toBe('RangeError');
    expect(await t.store.summary('default', traceId)).toMatchObject({ status: 'completed' });
  });

  test('an agent that throws: agent_failed with name, message and stack; run() rejects with the very same error', async () => {
    const thrown = new SyntaxError('model output was not JSON');
    let traceId = '';
    const error = await caught(() =>
      recorder.run({ agent: 'agent-throws', input: { n: 1 } }, async (ctx) => {
        traceId = ctx.traceId;
        await new Promise((r) => setTimeout(r, 5));
        throw thrown;
      }),
    );
    expect(error).toBe(thrown);
    const events = await readTrace(t.store, 'default', traceId);
    expect(typesOf(events)).toEqual(['agent_started', 'agent_failed']);
    const failed = only(events, 'agent_failed');
    expect(failed.error).toMatchObject({ name: 'SyntaxError', message: 'model output was not JSON' });
    expect(failed.error.stack).toContain('failures.test.ts');
    expect(failed.totals.durationMs).toBeGreaterThan(0);
    expect(await t.store.summary('default', traceId)).toMatchObject({ status: 'failed' });
  });

  test('a synchronous throw and a thrown non-Error value are recorded too', async () => {
    const e1 = await caught(() =>
      recorder.run({ agent: 'sync-throw' }, () => {
        throw new Error('sync');
      }),
    );
    expect((e1 as Error).message).toBe('sync');
    let traceId = '';
    const e2 = await caught(() =>
      recorder.run({ agent: 'string-throw' }, async (ctx) => {
        traceId = ctx.traceId;
        throw 'just a string';
      }),
    );
    expect(e2).toBe('just a string');
    const events = await readTrace(t.store, 'default', traceId);
    expect(only(events, 'agent_failed').error).toMatchObject({ name: 'Error', message: 'just a string' });
  });
});
