import { EventStreamCodec } from '@smithy/core/event-streams';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COST_UNKNOWN, eventCost, formatTokens, formatTraceCost } from '../../replay-cli/format.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { normalizeRequest, requestHash } from '../../src/hashing/request-key.js';
import {
  crc32,
  EventStreamFramingError,
  EventStreamSplitter,
  frameEventMessage,
} from '../../src/providers/bedrock/event-stream.js';
import { detectLlmEndpoint, placeholderEnvFor, recordedEndpoint, wireChunk } from '../../src/providers/index.js';
import { loadPricing } from '../../src/recorder/pricing.js';

const chat = { model: 'llama-3.1-8b', messages: [{ role: 'user', content: 'hi' }] };
const detect = (url: string, body?: unknown, config = {}) =>
  detectLlmEndpoint({ method: 'POST', url, body: () => body }, config);

describe('recognition by path suffix and body shape, under any host and prefix', () => {
  it('OpenAI-compatible servers, named from the host when known', () => {
    expect(detect('https://openrouter.ai/api/v1/chat/completions', chat)).toMatchObject({
      provider: 'openrouter',
      operation: 'chat.completions',
    });
    expect(detect('https://api.groq.com/openai/v1/chat/completions', chat)?.provider).toBe('groq');
    expect(detect('https://api.together.xyz/v1/chat/completions', chat)?.provider).toBe('together');
    expect(detect('https://api.mistral.ai/v1/chat/completions', chat)?.provider).toBe('mistral');
    expect(detect('http://localhost:11434/v1/chat/completions', chat)?.provider).toBe('ollama');
    expect(detect('http://vllm.internal:8000/v1/chat/completions', chat)?.provider).toBe('vllm');
    expect(detect('https://gateway.corp.example/llm/proxy/v1/chat/completions', chat)?.provider).toBe(
      'openai-compatible',
    );
    expect(detect('https://x.example/v1/embeddings', { model: 'e', input: 'text' })?.operation).toBe('embeddings');
    expect(detect('https://x.example/v1/responses', { model: 'm', input: 'hi' })?.operation).toBe('responses');
  });

  it('a path that only ends like an LLM call is plain HTTP unless its body has the shape', () => {
    expect(detect('https://shop.example/api/completions', { orderId: 1 })).toBeUndefined();
    expect(detect('https://x.example/v1/chat/completions', undefined)).toBeUndefined();
    // OpenAI assistants' thread messages are not Anthropic messages
    expect(detect('https://api.openai.com/v1/threads/t1/messages', { role: 'user', content: 'x' })).toBeUndefined();
    expect(detectLlmEndpoint({ method: 'GET', url: 'https://openrouter.ai/api/v1/chat/completions' })).toBeUndefined();
  });

  it('Anthropic messages under any host', () => {
    expect(
      detect('https://llm-gw.example/anthropic/v1/messages', { model: 'claude-x', max_tokens: 10, messages: [] }),
    ).toEqual({ provider: 'anthropic', operation: 'messages', api: 'anthropic' });
  });

  it('Azure OpenAI deployments name the model in the path', () => {
    expect(
      detect('https://my-res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21', {
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).toEqual({ provider: 'azure-openai', operation: 'chat.completions', api: 'openai', pathModel: 'prod-4o' });
    expect(detect('https://my-res.openai.azure.com/openai/v1/chat/completions', chat)?.provider).toBe('azure-openai');
  });

  it('Gemini (Generative Language API and Vertex AI)', () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    expect(
      detect('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent', body),
    ).toEqual({ provider: 'gemini', operation: 'generateContent', api: 'gemini', pathModel: 'gemini-2.5-flash' });
    expect(
      detect(
        'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
        body,
      ),
    ).toMatchObject({ provider: 'vertex-ai', operation: 'streamGenerateContent', pathModel: 'gemini-2.5-pro' });
  });

  it('Bedrock Runtime Converse, model id URL-encoded in the path', () => {
    expect(
      detect(
        'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream',
        {
          messages: [],
        },
      ),
    ).toEqual({
      provider: 'bedrock',
      operation: 'converse-stream',
      api: 'bedrock',
      pathModel: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    });
  });

  it('config: an included base URL decides by path alone; an excluded one is never an LLM call', () => {
    expect(
      detect(
        'https://odd.example/base/chat/completions',
        { prompt_text: 'x' },
        {
          include: [{ baseUrl: 'https://odd.example/base', provider: 'my-gateway' }],
        },
      ),
    ).toMatchObject({ provider: 'my-gateway', operation: 'chat.completions' });
    expect(
      detect('https://openrouter.ai/api/v1/chat/completions', chat, { exclude: ['https://openrouter.ai/api'] }),
    ).toBe(undefined);
  });

  it('recorded events give their endpoint back, path model included', () => {
    expect(
      recordedEndpoint({
        provider: 'bedrock',
        operation: 'converse',
        url: 'http://127.0.0.1:1/model/amazon.nova-lite-v1%3A0/converse',
      }),
    ).toEqual({ provider: 'bedrock', operation: 'converse', api: 'bedrock', pathModel: 'amazon.nova-lite-v1:0' });
    expect(recordedEndpoint({ provider: 'groq', operation: 'chat.completions' }).api).toBe('openai');
  });

  it('placeholder credentials only for the providers a recording used', () => {
    expect(Object.keys(placeholderEnvFor(['openai']))).toEqual(['OPENAI_API_KEY']);
    expect(placeholderEnvFor(['bedrock', 'gemini', 'azure-openai'])).toMatchObject({
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      GEMINI_API_KEY: expect.any(String),
      GOOGLE_GENERATIVE_AI_API_KEY: expect.any(String),
      AZURE_OPENAI_API_KEY: expect.any(String),
    });
  });
});

describe('the LLM request key', () => {
  const key = (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    const endpoint = detect(url, body);
    return requestHash(normalizeRequest({ method: 'POST', url, headers, body: text }, endpoint));
  };

  it('never includes the host or the prefix', () => {
    expect(key('https://openrouter.ai/api/v1/chat/completions', chat)).toBe(
      key('http://127.0.0.1:9999/v1/chat/completions', chat),
    );
  });

  it('Gemini: the model in the path counts, the key in ?key= does not', () => {
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const base = 'https://generativelanguage.googleapis.com/v1beta/models';
    expect(key(`${base}/gemini-2.5-flash:generateContent?key=AIzaA`, body)).toBe(
      key(`${base}/gemini-2.5-flash:generateContent?key=AIzaB`, body),
    );
    expect(key(`${base}/gemini-2.5-flash:generateContent`, body)).not.toBe(
      key(`${base}/gemini-2.5-pro:generateContent`, body),
    );
  });

  it('Bedrock: SigV4 headers and dates are not part of it', () => {
    const url = 'https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse';
    const body = { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
    const h = (date: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=AKIA/${date}/us-east-1/bedrock/aws4_request, Signature=${date}`,
      'x-amz-date': `${date}T000000Z`,
      'amz-sdk-invocation-id': date,
    });
    expect(key(url, body, h('20260101'))).toBe(key(url, body, h('20261202')));
    expect(key(url, body)).not.toBe(key(url.replace('nova-lite', 'nova-pro'), body));
  });
});

describe('AWS event-stream framing', () => {
  const sdk = new EventStreamCodec(
    (b) => Buffer.from(b).toString('utf8'),
    (s) => new Uint8Array(Buffer.from(s, 'utf8')),
  );
  const message = {
    headers: { ':event-type': 'contentBlockDelta', ':content-type': 'application/json', ':message-type': 'event' },
    payload: JSON.stringify({ contentBlockIndex: 0, delta: { text: 'héllo ' } }),
  };

  it('frames exactly as the AWS SDK codec does, and decodes what it frames', () => {
    const ours = Buffer.from(frameEventMessage(message));
    const theirs = Buffer.from(
      sdk.encode({
        headers: Object.fromEntries(
          Object.entries(message.headers).map(([k, v]) => [k, { type: 'string' as const, value: v }]),
        ),
        body: new Uint8Array(Buffer.from(message.payload, 'utf8')),
      }),
    );
    expect(ours.equals(theirs)).toBe(true);
    const decoded = sdk.decode(ours);
    expect(Buffer.from(decoded.body).toString('utf8')).toBe(message.payload);
    expect(decoded.headers[':event-type']).toEqual({ type: 'string', value: 'contentBlockDelta' });
  });

  it('splits a stream cut at any byte into the same messages; typed headers frame back to the same bytes', () => {
    const typed = {
      headers: {
        ':event-type': 'x',
        n: { type: 'integer' as const, value: -7 },
        b: { type: 'boolean' as const, value: true },
        t: { type: 'timestamp' as const, value: '1700000000000' },
      },
      payload: '{}',
    };
    const wire = Buffer.concat([frameEventMessage(message), frameEventMessage(typed), frameEventMessage(message)]);
    for (const step of [1, 7, 64, wire.length]) {
      const s = new EventStreamSplitter();
      const out = [];
      for (let i = 0; i < wire.length; i += step) out.push(...s.push(wire.subarray(i, i + step)));
      expect(out).toEqual([message, typed, message]);
      expect(s.pending).toBe(0);
    }
    expect(
      Buffer.from(frameEventMessage(typed)).equals(
        Buffer.from(frameEventMessage(new EventStreamSplitter().push(frameEventMessage(typed))[0] as typeof typed)),
      ),
    ).toBe(true);
  });

  it('refuses corrupt frames, and replays a recorded chunk as the same bytes', () => {
    const wire = Buffer.from(frameEventMessage(message));
    wire.writeUInt8((wire.readUInt8(wire.length - 6) ^ 0xff) & 0xff, wire.length - 6);
    expect(() => new EventStreamSplitter().push(wire)).toThrow(EventStreamFramingError);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const recorded = JSON.stringify(message);
    expect(
      Buffer.from(wireChunk('application/vnd.amazon.eventstream', recorded)).equals(
        Buffer.from(frameEventMessage(message)),
      ),
    ).toBe(true);
    expect(wireChunk('text/event-stream', 'data: x\n\n')).toBe('data: x\n\n');
  });
});

describe('pricing and its display', () => {
  const pricing = loadPricing();
  it('prices current models of the four providers; unknown models have no price', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(pricing.cost('gpt-4o-mini', usage)).toBeGreaterThan(0);
    expect(pricing.cost('claude-sonnet-4-5-20250929', usage)).toBeGreaterThan(0);
    expect(pricing.cost('gemini-2.5-flash', usage)).toBe(2.8);
    expect(pricing.cost('us.amazon.nova-lite-v1:0', usage)).toBe(0.3);
    expect(pricing.cost('us.anthropic.claude-3-5-haiku-20241022-v1:0', usage)).toBeGreaterThan(0);
    expect(pricing.cost('some-local-llama', usage)).toBeNull();
  });

  it('prices the newest models as pricing/models.json records them, dated names and Bedrock ids included', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(pricing.cost('gpt-5.4-mini-2026-03-17', usage)).toBe(5.25);
    expect(pricing.cost('claude-opus-5-5-20260923', usage)).toBe(24);
    expect(pricing.cost('us.anthropic.claude-sonnet-5-5-v1:0', usage)).toBe(12);
    expect(pricing.cost('gemini-3-flash-preview', usage)).toBe(3.5);
    expect(pricing.cost('us.amazon.nova-2-lite-v1:0', usage)).toBeCloseTo(3.08, 10);
    // cached input at its own price: 1M input of which 800k from the cache
    expect(pricing.cost('gpt-5.5', { inputTokens: 1_000_000, outputTokens: 0, cachedTokens: 800_000 })).toBeCloseTo(
      0.2 * 5 + 0.8 * 0.5,
      10,
    );
  });

  it('records for each provider where its prices come from and when they were checked', () => {
    const file = JSON.parse(readFileSync('pricing/models.json', 'utf8')) as {
      providers: Record<string, { source: string; checked: string }>;
      models: Record<string, { provider?: string }>;
    };
    const providers = new Set(Object.values(file.models).map((m) => m.provider));
    for (const name of providers) {
      const entry = name === undefined ? undefined : file.providers[name];
      expect(entry?.source, `source of ${name}`).toMatch(/^https:\/\//);
      expect(entry?.checked, `date ${name} was checked`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect([...providers].sort()).toEqual(['anthropic', 'bedrock', 'gemini', 'openai']);
  });

  it('labels tokens by side and says cost unknown, never $0, for unpriced calls', () => {
    expect(formatTokens(177, 17)).toBe('in 177 / out 17');
    const response = (costUsd: number | null) =>
      ({
        type: 'llm_response',
        payload: { costUsd, usage: { inputTokens: 5, outputTokens: 2 } },
      }) as unknown as StoredEvent;
    expect(eventCost(response(null))).toBe(COST_UNKNOWN);
    expect(eventCost(response(0.0012))).toBe('$0.0012');
    expect(formatTraceCost(0, 194)).toBe(COST_UNKNOWN);
    expect(formatTraceCost(0.0012, 194, 1)).toBe('$0.0012 + 1 unpriced');
    expect(formatTraceCost(0, 0)).toBe('$0');
  });
});
