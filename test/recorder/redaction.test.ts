import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  createRecorder,
  redactString,
  redactValue,
  redactUrl,
  REDACTED,
  type Recorder,
} from '../../src/recorder/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { readTrace, tempStore } from './helpers.js';

/**
 * Redaction happens before the append, on by default. Keys of the real shapes go through every channel a secret can
 * take (headers, query strings, URLs, JSON bodies, streamed chunks the stub echoes back, tool arguments and results,
 * agent input/output, error messages); afterwards the raw bytes of the SQLite file and its WAL contain none of them.
 */
function rand(alphabet: string, n: number, seed: number): string {
  let s = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += alphabet[s % alphabet.length];
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64 = `${ALNUM}/+`;

const KEYS = {
  openaiProject: `sk-proj-${rand(`${ALNUM}_-`, 156, 1)}`,
  openaiLegacy: `sk-${rand(ALNUM, 48, 2)}`,
  openaiSvc: `sk-svcacct-${rand(`${ALNUM}_-`, 120, 3)}`,
  anthropic: `sk-ant-api03-${rand(`${ALNUM}_-`, 86, 4)}-${rand(ALNUM, 6, 5)}AA`,
  anthropicAdmin: `sk-ant-admin01-${rand(`${ALNUM}_-`, 86, 6)}-${rand(ALNUM, 6, 7)}AA`,
  awsAccessKeyId: `AKIA${rand(UPPER, 16, 8)}`,
  awsSecret: rand(B64, 38, 9) + 'x9',
  awsTempKeyId: `ASIA${rand(UPPER, 16, 10)}`,
  awsTempSecret: rand(B64, 38, 11) + 'Q1',
  bearerJwt: `eyJhbGciOiJIUzI1NiJ9.${rand(ALNUM, 60, 12)}.${rand(`${ALNUM}_-`, 43, 13)}`,
  google: `AIza${rand(`${ALNUM}_-`, 35, 14)}`,
  github: `ghp_${rand(ALNUM, 36, 15)}`,
  cookie: `session=${rand(ALNUM, 32, 16)}`,
};

let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 2 });
  t = tempStore();
  recorder = createRecorder({
    store: t.store,
    providers: [stub.openaiBaseUrl, { baseUrl: stub.anthropicBaseUrl, provider: 'anthropic' }],
    // a user hook on top of the defaults: hide e-mail addresses everywhere
    redact: (event) => JSON.parse(JSON.stringify(event).replace(/[\w.+-]+@example\.com/g, '<email>')),
  });
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

function rawStoreBytes(): string {
  return [t.path, `${t.path}-wal`]
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('\n');
}

describe('key shapes', () => {
  test('every fake key is recognised on its own and inside text', () => {
    for (const [name, key] of Object.entries(KEYS)) {
      if (name === 'awsSecret' || name === 'awsTempSecret' || name === 'cookie' || name === 'bearerJwt') continue;
      expect(redactString(key), name).toBe(REDACTED);
      expect(redactString(`my key is ${key}, keep it safe`), name).toBe(`my key is ${REDACTED}, keep it safe`);
    }
    expect(redactString(`Authorization: Bearer ${KEYS.bearerJwt}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    // an AWS secret is redacted next to its key id, or under its name
    expect(redactString(`${KEYS.awsAccessKeyId} ${KEYS.awsSecret}`)).not.toContain(KEYS.awsSecret);
    expect(redactString(`aws_secret_access_key = ${KEYS.awsSecret}`)).toBe(`aws_secret_access_key = ${REDACTED}`);
    expect(
      redactValue({ SecretAccessKey: KEYS.awsSecret, password: 'hunter2', max_tokens: 5, prompt: 'a token of thanks' }),
    ).toEqual({ SecretAccessKey: REDACTED, password: REDACTED, max_tokens: 5, prompt: 'a token of thanks' });
    expect(redactUrl(`https://x.test/v1?key=${KEYS.google}&q=1`)).toBe(
      `https://x.test/v1?key=${encodeURIComponent(REDACTED)}&q=1`,
    );
    expect(redactUrl('https://user:pw@x.test/a')).toBe('https://x.test/a');
    // ordinary text is left alone
    const prose = 'Ask the skeleton key maker about sk-8 sizes; the bearer of news said AKIA is a word.';
    expect(redactString(prose)).toBe(prose);
  });
});

test('after a recorded run the raw bytes of the store file and its WAL contain none of the keys', async () => {
  const openai = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: KEYS.openaiProject });
  const anthropic = new Anthropic({ baseURL: stub.anthropicBaseUrl, apiKey: KEYS.anthropic });
  const leaky = `Here are my credentials: ${KEYS.openaiLegacy} ${KEYS.anthropicAdmin} ${KEYS.awsAccessKeyId} ${KEYS.awsSecret} ${KEYS.github} mail me at ann@example.com`;
  const deploy = recorder.tool(
    'deploy',
    async (args: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => ({
      ok: true,
      echoed: `${args.accessKeyId}:${args.secretAccessKey}`,
      svc: KEYS.openaiSvc,
    }),
  );
  let traceId = '';
  await expect(
    recorder.run({ agent: 'leaky', input: { apiKey: KEYS.openaiProject, note: leaky } }, async (ctx) => {
      traceId = ctx.traceId;
      // SDK calls: credentials in headers; the prompt (and the stub's echo of it) carries keys in bodies and chunks
      await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: leaky }] });
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: leaky }],
      });
      for await (const _ of stream) {
        // drain
      }
      await anthropic.messages.create({
        model: 'claude-3-5-haiku-latest',
        max_tokens: 50,
        messages: [{ role: 'user', content: leaky }],
      });
      // generic HTTP: query-string keys, cookies, bearer tokens, a form body
      await fetch(`${stub.url}/echo?api_key=${KEYS.openaiLegacy}&key=${KEYS.google}`, {
        headers: { cookie: KEYS.cookie, authorization: `Bearer ${KEYS.bearerJwt}`, 'x-goog-api-key': KEYS.google },
      }).then((r) => r.text());
      await fetch(`${stub.url}/form`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `client_secret=${KEYS.github}&grant_type=x`,
      }).then((r) => r.text());
      await new Promise<void>((resolve) => {
        const req = httpRequest(
          `${stub.url}/node?token=${KEYS.github}`,
          { headers: { 'x-api-key': KEYS.anthropic, 'proxy-authorization': `Basic ${KEYS.github}` } },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.end();
      });
      // tool arguments and results
      await deploy({
        accessKeyId: KEYS.awsTempKeyId,
        secretAccessKey: KEYS.awsTempSecret,
        sessionToken: KEYS.bearerJwt,
      });
      ctx.event('memory_updated', { key: 'creds', value: { api_key: KEYS.openaiProject, text: leaky } });
      // and an error message with a key in it
      throw new Error(`upstream rejected key ${KEYS.openaiProject}`);
    }),
  ).rejects.toThrow('upstream rejected key');

  const events = await readTrace(t.store, 'default', traceId);
  expect(events.map((e) => e.type)).toContain('agent_failed');
  expect(events.filter((e) => e.type === 'llm_request')).toHaveLength(3);
  const text = JSON.stringify(events);
  expect(text).toContain(REDACTED);
  expect(text).toContain('<email>');
  expect(text).not.toContain('ann@example.com');
  const bytes = rawStoreBytes();
  expect(bytes.length).toBeGreaterThan(0);
  for (const [name, key] of Object.entries(KEYS)) {
    const secret = name === 'cookie' ? key.split('=')[1]! : key;
    expect(text.includes(secret), `${name} in the events`).toBe(false);
    expect(bytes.includes(secret), `${name} in the store bytes`).toBe(false);
    expect(bytes.includes(encodeURIComponent(secret)), `${name} (url-encoded) in the store bytes`).toBe(false);
  }
  // the request hash was computed before redaction, from the credential-free normalized request
  const req = events.find((e) => e.type === 'llm_request');
  expect(req?.type === 'llm_request' && req.payload.requestHash).toMatch(/^[0-9a-f]{64}$/);
});

test('redactDefaults: false keeps values (the user hook still runs)', async () => {
  const local = tempStore();
  const r = createRecorder({
    store: local.store,
    redactDefaults: false,
    redact: (e) => e,
    captureHttp: false,
    captureNondeterminism: false,
  });
  const { traceId } = await r.run({ agent: 'raw', input: { k: 'sk-test-not-redacted-000000000000' } }, async () => 1);
  const events = await readTrace(local.store, 'default', traceId);
  expect(JSON.stringify(events[0]?.payload)).toContain('sk-test-not-redacted');
  await r.close();
  await local.cleanup();
});
