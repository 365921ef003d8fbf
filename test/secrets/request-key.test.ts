import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/envelope.js';
import { detectLlmEndpoint } from '../../src/hashing/providers.js';
import { normalizeRequest, requestHash } from '../../src/hashing/request-key.js';
import { storedRequestHash } from '../../src/hashing/stored-request.js';
import { toolArgsHash } from '../../src/hashing/tool-key.js';
import { redactEventDefaults } from '../../src/recorder/redact.js';
import { buildReplayCache } from '../../src/replay/cache/build.js';
import { ReplayCache } from '../../src/replay/cache/lookup.js';
import { matchesRedacted } from '../../src/replay/cache/redacted-match.js';
import { REDACTED, redactValue } from '../../src/secrets/index.js';
import { PASSWORD, SHAPED } from './corpus.js';

/** The request key over the redacted request: what the recorder stores, what the replay computes, what the cache holds. */

const URL_ = 'https://api.payments.test/v1/charges';
const CHAT = 'https://api.openai.com/v1/chat/completions';

function liveKey(url: string, body: string, method = 'POST'): string {
  return requestHash(normalizeRequest({ method, url, body }, detectLlmEndpoint(method, url)));
}

const other = {
  stripe: `sk_live_51${'Zp3'.repeat(32)}q`,
  password: 'a-different-password-entirely',
  jwt: `${SHAPED.jwt.value.split('.').slice(0, 2).join('.')}.${'s1g'.repeat(29)}`,
};

describe('the request key is taken after redaction', () => {
  it('the same request with other secrets (body fields, shapes, query, URL credentials, JSON in a prompt) has the same key', () => {
    const body = (s: { stripe: string; password: string; jwt: string }) =>
      JSON.stringify({
        amount: 5,
        password: s.password,
        note: `charge with ${s.stripe}`,
        config: JSON.stringify({ token: s.jwt, region: 'eu' }),
      });
    const a = { stripe: SHAPED.stripeLive.value, password: PASSWORD, jwt: SHAPED.jwt.value };
    const url = (s: typeof a) => `https://ops:${s.password}@api.payments.test/v1/charges?stripe=${s.stripe}&mode=live`;
    expect(liveKey(url(a), body(a))).toBe(liveKey(url(other), body(other)));
    // a prompt too
    const prompt = (k: string) =>
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `use ${k} for billing` }] });
    expect(liveKey(CHAT, prompt(SHAPED.stripeLive.value))).toBe(liveKey(CHAT, prompt(other.stripe)));
    // what is not secret still decides
    expect(liveKey(url(a), body(a))).not.toBe(liveKey(url(a).replace('mode=live', 'mode=test'), body(a)));
    expect(liveKey(CHAT, prompt(SHAPED.stripeLive.value).replace('billing', 'refunds'))).not.toBe(
      liveKey(CHAT, prompt(SHAPED.stripeLive.value)),
    );
  });

  it('the tool arguments hash, taken over the redacted arguments, does not depend on the secret either', () => {
    const args = (key: string, password: string) => ({ apiKey: key, password, amount: 5, when: new Date(0) });
    expect(toolArgsHash('charge', redactValue(args(SHAPED.stripeLive.value, PASSWORD)))).toBe(
      toolArgsHash('charge', redactValue(args(other.stripe, other.password))),
    );
    // clean arguments hash as before (same reference), so traces recorded earlier keep their tool keys
    const clean = { orderId: 'A-1001' };
    expect(redactValue(clean)).toBe(clean);
  });
});

function storedEvents(requestHash: string): StoredEvent[] {
  const body = JSON.stringify({ password: PASSWORD, amount: 5, note: `key ${SHAPED.stripeLive.value}` });
  const url = `${URL_}?stripe=${SHAPED.stripeLive.value}`;
  const raw = {
    type: 'http_request' as const,
    payload: { method: 'POST', url, headers: {}, body, bodyEncoding: 'utf8' as const, requestHash, occurrence: 0 },
  };
  const redacted = redactEventDefaults(raw as never) as typeof raw;
  return [
    { seq: 1, eventId: 'e1', ...redacted } as unknown as StoredEvent,
    {
      seq: 2,
      eventId: 'e2',
      parentEventId: 'e1',
      type: 'http_response',
      payload: { status: 200, headers: {}, body: '{"ok":true}', bodyEncoding: 'utf8', latencyMs: 1 },
    } as unknown as StoredEvent,
  ];
}

describe('the replay cache re-keys what the store holds', () => {
  it('a trace whose hashes were computed the old way (before redaction) still answers the live request', () => {
    const live = liveKey(
      `${URL_}?stripe=${other.stripe}`,
      JSON.stringify({ password: other.password, amount: 5, note: `key ${other.stripe}` }),
    );
    for (const recordedHash of ['0'.repeat(64), 'hash-of-the-unredacted-request']) {
      const events = storedEvents(recordedHash);
      expect(JSON.stringify(events)).not.toContain(PASSWORD);
      const cache = new ReplayCache(buildReplayCache(events));
      expect(cache.data.exchanges[0]?.requestHash).toBe(storedRequestHash(events[0] as never));
      expect(cache.takeExchange(live, 0)?.seq).toBe(1);
    }
  });

  it('[REDACTED] in a recorded request matches any text, everything else must be equal', () => {
    const recorded = { body: { prompt: `the password is ${REDACTED}, thanks`, n: 1, list: ['a', REDACTED] } };
    expect(
      matchesRedacted(recorded, { body: { prompt: 'the password is hunter2hunter2, thanks', n: 1, list: ['a', 'x'] } }),
    ).toBe(true);
    expect(
      matchesRedacted(recorded, { body: { prompt: 'the password is hunter2, no thanks', n: 1, list: ['a', 'x'] } }),
    ).toBe(false);
    expect(matchesRedacted(recorded, { body: { prompt: 'the password is x, thanks', n: 2, list: ['a', 'x'] } })).toBe(
      false,
    );
    expect(matchesRedacted(recorded, { body: { prompt: 'the password is x, thanks', n: 1, list: ['a'] } })).toBe(false);
    expect(matchesRedacted({ a: 'plain' }, { a: 'plain', b: 1 })).toBe(false);
  });
});
