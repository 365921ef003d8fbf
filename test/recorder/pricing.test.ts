import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import OpenAI from 'openai';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { ValidationError } from '../../src/errors.js';
import { createRecorder, loadPricing, shippedPricing, type Recorder } from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, tempStore } from './helpers.js';

let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;
beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 1 });
  t = tempStore();
  const extra = join(t.dir, 'prices.json');
  writeFileSync(
    extra,
    JSON.stringify({
      models: { 'my-local-model': { input: 1, output: 2 }, 'gpt-4o-mini': { input: 100, output: 200 } },
    }),
  );
  recorder = createRecorder({ store: t.store, providers: [stub.openaiBaseUrl], pricing: extra });
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

test('the shipped table validates and covers the common models', () => {
  const models = Object.keys(shippedPricing().models);
  for (const m of [
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'o3',
    'o4-mini',
    'gpt-5',
    'gpt-5-mini',
    'text-embedding-3-small',
    'text-embedding-3-large',
    'claude-3-5-haiku',
    'claude-sonnet-4',
    'claude-opus-4',
    'claude-3-7-sonnet',
  ]) {
    expect(models).toContain(m);
  }
});

test('cost: dated and -latest names, cached and cache-write tokens, unknown → null', () => {
  const p = loadPricing();
  // 1M input at $2.50 + 1M output at $10
  expect(p.cost('gpt-4o-2024-08-06', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(12.5);
  // half the input cached at $1.25
  expect(p.cost('gpt-4o', { inputTokens: 1_000_000, outputTokens: 0, cachedTokens: 500_000 })).toBe(1.875);
  expect(p.cost('claude-3-5-haiku-latest', { inputTokens: 1_000_000, outputTokens: 0 })).toBe(0.8);
  expect(
    p.cost('claude-sonnet-4-20250514', {
      inputTokens: 2_000_000,
      outputTokens: 0,
      cachedTokens: 1_000_000,
      cacheWriteTokens: 1_000_000,
    }),
  ).toBe(0.3 + 3.75);
  expect(p.cost('anthropic.claude-3-5-haiku-20241022-v1:0', { inputTokens: 1_000_000, outputTokens: 0 })).toBe(0.8);
  expect(p.cost('no-such-model', { inputTokens: 10, outputTokens: 10 })).toBeNull();
  expect(p.cost('gpt-4o', undefined)).toBeNull();
  expect(loadPricing(false).cost('gpt-4o', { inputTokens: 1, outputTokens: 1 })).toBeNull();
});

test('a user table is merged on top; a bad one is a clear ValidationError', () => {
  const p = loadPricing({ 'gpt-4o': { input: 0, output: 0 }, custom: { input: 1, output: 1 } });
  expect(p.cost('gpt-4o', { inputTokens: 5, outputTokens: 5 })).toBe(0);
  expect(p.cost('custom', { inputTokens: 1_000_000, outputTokens: 0 })).toBe(1);
  expect(p.cost('gpt-4.1', { inputTokens: 1_000_000, outputTokens: 0 })).toBe(2);
  expect(() => loadPricing({ models: { bad: { input: -1, output: 1 } } })).toThrow(ValidationError);
  expect(() => loadPricing({ models: { bad: { input: 'free' } } } as never)).toThrow(
    /pricing table .* not valid at models\.bad/,
  );
});

test('responses and embeddings through the SDK: usage, cost from the merged table, finish reason', async () => {
  const client = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-pricing-000000000000000000' });
  const { traceId } = await recorder.run({ agent: 'prices' }, async () => {
    await client.responses.create({ model: 'gpt-4o-mini', input: 'hello there' });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    await client.chat.completions.create({ model: 'my-local-model', messages: [{ role: 'user', content: 'hi' }] });
  });
  const res = (await readTrace(t.store, 'default', traceId)).filter(
    (e): e is StoredEventOf<'llm_response'> => e.type === 'llm_response',
  );
  expect(res.map((r) => r.payload.operation)).toEqual(['responses', 'embeddings', 'chat.completions']);
  const [responses, embeddings, chat] = res.map((r) => r.payload);
  expect(responses?.usage?.inputTokens).toBeGreaterThan(0);
  expect(responses?.finishReason).toBe('completed');
  // gpt-4o-mini overridden to $100/$200 per 1M by the user file
  expect(responses?.costUsd).toBeCloseTo(
    ((responses?.usage?.inputTokens ?? 0) * 100 + (responses?.usage?.outputTokens ?? 0) * 200) / 1e6,
    9,
  );
  expect(embeddings?.usage).toMatchObject({ outputTokens: 0 });
  expect(embeddings?.costUsd).toBeCloseTo(((embeddings?.usage?.inputTokens ?? 0) * 0.02) / 1e6, 12);
  expect(chat?.model).toBe('my-local-model');
  expect(chat?.costUsd).toBeGreaterThan(0);
});
