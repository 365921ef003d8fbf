import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import OpenAI from 'openai';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder, type Recorder } from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, tempStore } from './helpers.js';

/**
 * SSE is recorded chunk by chunk while the caller consumes it, never buffered first: the caller's chunks arrive spread
 * over time (about chunkDelayMs apart), the recorded chunks carry the same spread, and the final-chunk usage lands in
 * llm_response. Margins are generous: only "spread vs all at once" is asserted, never a speed.
 */
const DELAY = 60;
let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: DELAY });
  t = tempStore();
  recorder = createRecorder({ store: t.store, providers: [stub.openaiBaseUrl] });
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

function spread(times: number[]): number {
  return (times.at(-1) ?? 0) - (times[0] ?? 0);
}

test('openai SDK stream: the caller gets chunks over time while they are recorded; usage from the final chunk', async () => {
  const client = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-streaming-key-000000000000' });
  const arrivals: number[] = [];
  const { traceId } = await recorder.run({ agent: 'stream' }, async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Tell me a longer story about streams please' }],
    });
    for await (const _chunk of stream) arrivals.push(performance.now());
  });
  expect(arrivals.length).toBeGreaterThan(4);
  // not all at once: the caller saw them spread over at least half the server's pacing
  expect(spread(arrivals)).toBeGreaterThan((arrivals.length - 2) * DELAY * 0.5);

  const events = await readTrace(t.store, 'default', traceId);
  const res = events.find((e): e is StoredEventOf<'llm_response'> => e.type === 'llm_response');
  const chunks = res?.payload.chunks ?? [];
  expect(chunks.length).toBeGreaterThanOrEqual(arrivals.length);
  const ts = chunks.map((c) => c.t);
  expect(spread(ts)).toBeGreaterThan((chunks.length - 2) * DELAY * 0.5);
  // usage arrives in the final data chunk only, and is in llm_response
  expect(res?.payload.usage?.inputTokens).toBeGreaterThan(0);
  expect(res?.payload.usage?.outputTokens).toBeGreaterThan(0);
  expect(res?.payload.costUsd).toBeGreaterThan(0);
  expect(res?.payload.finishReason).toBe('stop');
  // the recorded chunks are the bytes the caller received
  expect(chunks.every((c) => c.data.endsWith('\n\n'))).toBe(true);
});

test('raw fetch: the first chunk reaches the caller long before the stream ends', async () => {
  const seen: Array<{ at: number; text: string }> = [];
  let headersAt = 0;
  const { traceId } = await recorder.run({ agent: 'stream-raw' }, async () => {
    const res = await fetch(`${stub.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-streaming-key-000000000000' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'count slowly to five' }],
      }),
    });
    headersAt = performance.now();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen.push({ at: performance.now() - headersAt, text: decoder.decode(value) });
    }
  });
  const total = seen.at(-1)?.at ?? 0;
  expect(seen.length).toBeGreaterThan(3);
  expect(seen[0]!.at).toBeLessThan(total / 2);
  const events = await readTrace(t.store, 'default', traceId);
  const res = events.find((e): e is StoredEventOf<'llm_response'> => e.type === 'llm_response');
  expect((res?.payload.chunks ?? []).map((c) => c.data).join('')).toBe(seen.map((s) => s.text).join(''));
});

test('node:http stream (named import): spread for the caller, recorded per SSE event', async () => {
  const arrivals: number[] = [];
  let body = '';
  const { traceId } = await recorder.run(
    { agent: 'stream-http' },
    () =>
      new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          `${stub.openaiBaseUrl}/chat/completions`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              arrivals.push(performance.now());
              body += d;
            });
            res.on('end', resolve);
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(
          JSON.stringify({
            model: 'gpt-4o-mini',
            stream: true,
            messages: [{ role: 'user', content: 'count slowly to five' }],
          }),
        );
      }),
  );
  expect(arrivals.length).toBeGreaterThan(3);
  expect(spread(arrivals)).toBeGreaterThan((arrivals.length - 2) * DELAY * 0.5);
  const events = await readTrace(t.store, 'default', traceId);
  expect(events.map((e) => e.type).filter((x) => x !== 'nondeterminism')).toEqual([
    'agent_started',
    'llm_request',
    'llm_response',
    'agent_completed',
  ]);
  const res = events.find((e): e is StoredEventOf<'llm_response'> => e.type === 'llm_response');
  expect((res?.payload.chunks ?? []).map((c) => c.data).join('')).toBe(body);
  expect(res?.payload.finishReason).toBe('stop');
});
