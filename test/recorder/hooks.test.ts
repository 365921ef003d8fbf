import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import OpenAI from 'openai';
import type { StoredEvent, StoredEventOf } from '../../src/events/envelope.js';
import {
  createRecorder,
  type InterceptedRequest,
  type ReplayHooks,
  type ToolCallInfo,
} from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * The replay seam (src/recorder/hooks.ts): with ReplayHooks installed the same interception path answers HTTP from
 * `respondHttp` (JSON and streams, fetch and node:http), turns a thrown error into a network error, and answers tools
 * from `respondTool` — while recording exactly as in record mode, so the two traces compare event by event.
 */
let stub: LlmStub;
beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 2 });
});
afterAll(async () => {
  await stub.close();
});

const enc = new TextEncoder();

function sseResponse(frames: string[], gapMs: number): Response {
  return new Response(
    new ReadableStream({
      async start(c) {
        for (const f of frames) {
          c.enqueue(enc.encode(f));
          await new Promise((r) => setTimeout(r, gapMs));
        }
        c.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

async function recordOnce(
  hooks: ReplayHooks | undefined,
  agent: (tool: (q: string) => Promise<string>) => Promise<unknown>,
) {
  const t = tempStore();
  const recorder = createRecorder({ store: t.store, providers: [stub.openaiBaseUrl], ...(hooks ? { hooks } : {}) });
  const lookup = recorder.tool('lookup', async (q: string) => `live:${q}`);
  const result = await recorder.run({ agent: 'hooks' }, () => agent(lookup)).catch((error: unknown) => ({ error }));
  const traceId = 'traceId' in result ? result.traceId : undefined;
  const events = traceId ? await readTrace(t.store, 'default', traceId) : [];
  await recorder.close();
  await t.cleanup();
  return { result, events };
}

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] };

test('record, then answer the same agent from hooks: same events, no network, same output', async () => {
  const agent = async (lookup: (q: string) => Promise<string>) => {
    const client = new OpenAI({
      baseURL: stub.openaiBaseUrl,
      apiKey: 'sk-test-hooks-00000000000000000000',
      maxRetries: 0,
    });
    const a = await client.chat.completions.create(chatBody as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    const s = await client.chat.completions.create({
      ...chatBody,
      stream: true,
      stream_options: { include_usage: true },
    } as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    const viaHttp = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${stub.url}/status`, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(`${res.statusCode}:${b}`));
      });
      req.on('error', reject);
      req.end();
    });
    const tool = await lookup('q1');
    return { a: a.choices[0]?.message.content, text, viaHttp, tool };
  };
  const original = await recordOnce(undefined, agent);
  const before = stub.requests.length;

  // a miniature replay engine: answers from the original trace by request hash + occurrence
  const responses = new Map<string, StoredEvent>();
  const byId = new Map(original.events.map((e) => [e.eventId, e]));
  for (const e of original.events) {
    if (e.type !== 'llm_response' && e.type !== 'http_response' && e.type !== 'tool_response') continue;
    const req = byId.get(e.parentEventId ?? '');
    if (req?.type === 'llm_request' || req?.type === 'http_request')
      responses.set(`${req.payload.requestHash}#${req.payload.occurrence}`, e);
    if (req?.type === 'tool_call')
      responses.set(`${req.payload.tool}:${req.payload.argsHash}#${req.payload.occurrence}`, e);
  }
  const asked: InterceptedRequest[] = [];
  const tools: ToolCallInfo[] = [];
  const hooks: ReplayHooks = {
    async respondHttp(req) {
      asked.push(req);
      const e = responses.get(`${req.requestHash}#${req.occurrence}`);
      if (e?.type === 'llm_response' && e.payload.chunks)
        return sseResponse(
          e.payload.chunks.map((c) => c.data),
          1,
        );
      if (e?.type === 'llm_response') return Response.json(e.payload.body, { status: e.payload.status });
      if (e?.type === 'http_response')
        return new Response(e.payload.body ?? '', { status: e.payload.status, headers: e.payload.headers ?? {} });
      throw new Error(`cache miss ${req.url}`);
    },
    async respondTool(call) {
      tools.push(call);
      const e = responses.get(`${call.tool}:${call.argsHash}#${call.occurrence}`);
      return e?.type === 'tool_response' ? { result: e.payload.result } : 'run-live';
    },
    nextValue: () => undefined,
  };
  const replay = await recordOnce(hooks, agent);
  expect(stub.requests.length).toBe(before); // nothing reached the network
  expect(asked).toHaveLength(3);
  expect(asked[0]?.endpoint).toEqual({ provider: 'openai-compatible', operation: 'chat.completions', api: 'openai' });
  expect(asked[0]?.headers.authorization).toMatch(/^Bearer sk-test-hooks/); // hooks see the unredacted request
  expect(tools).toEqual([expect.objectContaining({ tool: 'lookup', args: 'q1', occurrence: 0, pure: false })]);
  expect('output' in replay.result && replay.result.output).toEqual(
    'output' in original.result && original.result.output,
  );
  expect(typesOf(replay.events)).toEqual(typesOf(original.events));
  const strip = (events: StoredEvent[]) =>
    events
      .filter((e) => e.type === 'llm_request' || e.type === 'llm_response')
      .map((e) => {
        const p = { ...(e.payload as Record<string, unknown>) };
        for (const k of ['latencyMs', 'startMs', 'headersMs', 'headers']) delete p[k]; // timing, not content
        if (Array.isArray(p.chunks)) p.chunks = (p.chunks as Array<{ data: string }>).map((c) => c.data);
        return p;
      });
  expect(strip(replay.events)).toEqual(strip(original.events));
  const tr = replay.events.find((e): e is StoredEventOf<'tool_response'> => e.type === 'tool_response');
  expect(tr?.payload.result).toBe('live:q1');
});

test('a hook that throws fails the request like a network error, recorded as status 0', async () => {
  const hooks: ReplayHooks = {
    respondHttp: async () => {
      throw new Error('replay cache miss');
    },
    respondTool: async () => ({ error: { name: 'ToolBroke', message: 'recorded failure' } }),
    nextValue: () => undefined,
  };
  const { result, events } = await recordOnce(hooks, async (lookup) => {
    const fetchError = await fetch(`${stub.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(chatBody),
    }).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    const httpError = await new Promise<string>((resolve) => {
      const req = httpRequest(`${stub.url}/x`, () => resolve('no error'));
      req.on('error', (e) => resolve(e.message));
      req.end();
    });
    const toolError = await lookup('q').then(
      () => 'no error',
      (e: Error) => `${e.name}: ${e.message}`,
    );
    return { fetchError, httpError, toolError };
  });
  expect('output' in result && result.output).toEqual({
    fetchError: 'replay cache miss',
    httpError: 'replay cache miss',
    toolError: 'ToolBroke: recorded failure',
  });
  const responses = events.filter((e) => e.type === 'llm_response' || e.type === 'http_response');
  expect(responses.map((e) => (e.payload as { status: number }).status)).toEqual([0, 0]);
  expect(responses.map((e) => (e.payload as { error?: { message: string } }).error?.message)).toEqual([
    'replay cache miss',
    'replay cache miss',
  ]);
  const tr = events.find((e): e is StoredEventOf<'tool_response'> => e.type === 'tool_response');
  expect(tr?.payload.error).toEqual({ name: 'ToolBroke', message: 'recorded failure' });
});
