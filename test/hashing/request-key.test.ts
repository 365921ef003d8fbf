import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/hashing/canonical-json.js';
import { detectLlmEndpoint } from '../../src/hashing/providers.js';
import { normalizeRequest, OccurrenceCounter, requestHash } from '../../src/hashing/request-key.js';
import { toolArgsHash } from '../../src/hashing/tool-key.js';

const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });

function keyOf(url: string, body: string, configured: Parameters<typeof detectLlmEndpoint>[2] = []) {
  const endpoint = detectLlmEndpoint('POST', url, configured);
  return requestHash(normalizeRequest({ method: 'POST', url, body }, endpoint));
}

describe('canonical JSON', () => {
  it('sorts keys, drops undefined like JSON.stringify, and is stable', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: undefined } })).toBe('{"a":{"d":[1,null,"x"]},"b":1}');
    expect(canonicalJson({ z: new Date(0) })).toBe('{"z":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson(NaN)).toBe('null');
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
  });
});

describe('request identity', () => {
  it('ignores key order, base URL, volatile fields and query credentials', () => {
    const official = keyOf('https://api.openai.com/v1/chat/completions', chat());
    const proxied = keyOf(
      'http://127.0.0.1:4010/proxy/v1/chat/completions',
      JSON.stringify({ messages: [{ content: 'hi', role: 'user' }], model: 'gpt-4o-mini', user: 'u-123' }),
      [{ baseUrl: 'http://127.0.0.1:4010/proxy/v1', provider: 'openai-compatible' }],
    );
    expect(proxied).toBe(official);
    expect(keyOf('https://example.com/api?b=2&a=1&key=secret1', '{}')).toBe(
      keyOf('https://example.com/api?a=1&b=2&key=other', '{}'),
    );
    expect(keyOf('http://localhost:1111/x', 'a')).toBe(keyOf('http://localhost:2222/x', 'a'));
  });

  it('changes when the prompt, the model or the operation changes', () => {
    const base = keyOf('https://api.openai.com/v1/chat/completions', chat());
    expect(
      keyOf('https://api.openai.com/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'hi!' }] })),
    ).not.toBe(base);
    expect(keyOf('https://api.openai.com/v1/chat/completions', chat({ model: 'gpt-4o' }))).not.toBe(base);
    expect(keyOf('https://api.openai.com/v1/responses', chat())).not.toBe(base);
  });

  it('recognises providers by host, or by path and body shape under any other host', () => {
    expect(detectLlmEndpoint('POST', 'https://api.anthropic.com/v1/messages')).toEqual({
      provider: 'anthropic',
      operation: 'messages',
      api: 'anthropic',
    });
    expect(detectLlmEndpoint('POST', 'https://api.openai.com/v1/embeddings')).toEqual({
      provider: 'openai',
      operation: 'embeddings',
      api: 'openai',
    });
    expect(detectLlmEndpoint('GET', 'https://api.openai.com/v1/models')).toBeUndefined();
    // another host: only when the body has the shape of the operation's request
    expect(detectLlmEndpoint('POST', 'http://other.host/v1/chat/completions')).toBeUndefined();
    expect(
      detectLlmEndpoint('POST', 'http://other.host/api/v1/chat/completions', [], {
        body: () => ({ model: 'm', messages: [] }),
      }),
    ).toEqual({ provider: 'openai-compatible', operation: 'chat.completions', api: 'openai' });
  });

  it('numbers identical requests in order', () => {
    const c = new OccurrenceCounter();
    expect([c.next('a'), c.next('b'), c.next('a'), c.next('a')]).toEqual([0, 0, 1, 2]);
  });

  it('keys tool arguments by value, not by key order or prototype', () => {
    class Args {
      constructor(
        readonly q: string,
        readonly n: number,
      ) {}
    }
    expect(toolArgsHash('search', { n: 1, q: 'x' })).toBe(toolArgsHash('search', new Args('x', 1)));
    expect(toolArgsHash('search', { q: 'x' })).not.toBe(toolArgsHash('lookup', { q: 'x' }));
    expect(toolArgsHash('search', { when: new Date(0) })).not.toBe(toolArgsHash('search', { when: new Date(1) }));
  });
});
