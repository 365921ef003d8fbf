import { describe, expect, it } from 'vitest';
import {
  isSecretEnvName,
  REDACTED,
  redactBodyText,
  redactEnvValue,
  redactString,
  redactUrl,
  redactValue,
  scanValue,
  CIRCULAR,
} from '../../src/secrets/index.js';
import {
  AWS_SECRET,
  allNeedles,
  BASIC,
  CALLBACK_PASSWORD,
  DEPLOY_KEY,
  DSN,
  leakyObject,
  leakyText,
  nest,
  PASSWORD,
  QUERY_WITH_CREDENTIALS,
  SHAPED,
  TWILIO_AUTH_TOKEN,
  URL_PASSWORD,
} from './corpus.js';

/** every string in a value, walked without recursion (JSON.stringify itself overflows at 10 000 levels) */
function allStrings(value: unknown): string {
  const out: string[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (v !== null && typeof v === 'object') stack.push(...Object.keys(v), ...Object.values(v));
  }
  return out.join('\n');
}

function leaks(value: unknown): string[] {
  const text = allStrings(value);
  return Object.entries(allNeedles())
    .filter(([, needle]) => text.includes(needle) || text.includes(encodeURIComponent(needle)))
    .map(([name]) => name);
}

describe('the shape catalogue', () => {
  it('recognises every shaped secret alone and inside prose, and scan names its shape', () => {
    for (const [name, e] of Object.entries(SHAPED)) {
      expect(redactString(e.value), name).toBe(REDACTED);
      const text = `the key is ${e.value} — keep it safe`;
      expect(redactString(text), name).toBe(`the key is ${REDACTED} — keep it safe`);
      expect(
        scanValue({ text }).map((f) => f.shape),
        name,
      ).toEqual([e.shape]);
    }
  });

  it('Basic credentials, user:password@ in URLs (also inside a query string), an AWS secret next to its key id', () => {
    expect(redactString(`curl -H "Authorization: ${BASIC}" x`)).toBe(`curl -H "Authorization: Basic ${REDACTED}" x`);
    expect(redactString(`connect to ${DSN} now`)).toBe(
      `connect to postgres://${REDACTED}@db.internal.test:5432/orders now`,
    );
    const url = `https://app.test/login?${QUERY_WITH_CREDENTIALS}&lang=en`;
    expect(redactUrl(url)).not.toContain(CALLBACK_PASSWORD);
    expect(redactUrl(url)).toContain('lang=en');
    expect(redactString(`see https://x.test/?u=https://admin:${URL_PASSWORD}@h.test/`)).not.toContain(URL_PASSWORD);
    expect(redactString(`${SHAPED.awsAccessKeyId.value}:${AWS_SECRET}`)).toBe(`${REDACTED}:${REDACTED}`);
    expect(redactString(`aws_secret_access_key = ${AWS_SECRET}`)).toBe(`aws_secret_access_key = ${REDACTED}`);
  });

  it('fields by name: passwords whatever they look like, random values under key/token/secret names', () => {
    const out = redactValue({
      password: 'hunter22',
      passwd: 'x',
      client_secret: 'abc',
      SecretAccessKey: AWS_SECRET,
      twilio_auth_token: TWILIO_AUTH_TOKEN,
      DEPLOY_KEY,
      apiKey: 'short',
      authorization: 'Token abc',
      cookie: 'a=b',
      // not credentials: numbers, page tokens, cache keys, low-entropy names
      max_tokens: 50,
      prompt_cache_key: 'user-42-session-7f3a9b2c',
      next_page_token: 'eyJwYWdlIjoyfQ',
      idempotency_key: '8f14e45f-ceea-467f-a0e6-1e5e7b9b9e21',
      sort_key: 'created_at',
      token_type: 'bearer',
      primary_key: 'order_id',
    });
    expect(out).toEqual({
      password: REDACTED,
      passwd: REDACTED,
      client_secret: REDACTED,
      SecretAccessKey: REDACTED,
      twilio_auth_token: REDACTED,
      DEPLOY_KEY: REDACTED,
      apiKey: REDACTED,
      authorization: REDACTED,
      cookie: REDACTED,
      max_tokens: 50,
      prompt_cache_key: 'user-42-session-7f3a9b2c',
      next_page_token: 'eyJwYWdlIjoyfQ',
      idempotency_key: '8f14e45f-ceea-467f-a0e6-1e5e7b9b9e21',
      sort_key: 'created_at',
      token_type: 'bearer',
      primary_key: 'order_id',
    });
  });

  it('JSON inside a string gets the field rules; percent-encoded URL credentials are found in any string', () => {
    const prompt = `Use this config: ${JSON.stringify({ password: PASSWORD, region: 'eu' })}`;
    // prose around JSON: shapes only (the password has none) — but a string that IS JSON gets the field rules
    expect(redactString(prompt)).toBe(prompt);
    const asJson = JSON.stringify({ password: PASSWORD, region: 'eu', nested: JSON.stringify({ DEPLOY_KEY }) });
    const out = redactValue({ argv: ['node', 'agent.js', asJson] }) as { argv: string[] };
    expect(out.argv[2]).not.toContain(PASSWORD);
    expect(out.argv[2]).not.toContain(DEPLOY_KEY);
    expect(JSON.parse(out.argv[2] as string)).toMatchObject({ password: REDACTED, region: 'eu' });
    expect(redactString(`redirect: ${QUERY_WITH_CREDENTIALS}`)).not.toContain(CALLBACK_PASSWORD);
  });

  it('leaves ordinary text alone', () => {
    const prose =
      'Ask the skeleton key maker about sk-8 sizes; the bearer of news said AKIA is a word. Basic instructions: ' +
      'visit https://example.test:8443/path?q=1 and email ann@example.test. SG. is Singapore; AC/DC played.';
    expect(redactString(prose)).toBe(prose);
    expect(scanValue({ prose })).toEqual([]);
  });

  it('bodies: JSON by field and shape, form-encoded by field name', () => {
    const json = JSON.stringify(leakyObject());
    expect(leaks(redactBodyText(json))).toEqual([]);
    const form = `grant_type=password&username=ann&password=${encodeURIComponent(PASSWORD)}&client_secret=${DEPLOY_KEY}`;
    const redacted = redactBodyText(form);
    expect(redacted).toContain('username=ann');
    expect(redacted).not.toContain(encodeURIComponent(PASSWORD));
    expect(redacted).not.toContain(DEPLOY_KEY);
  });

  it('environment values: whole under credential names, shapes and URL credentials otherwise', () => {
    for (const name of ['OPENAI_API_KEY', 'STRIPE_SECRET_KEY', 'GITHUB_TOKEN', 'DB_PASSWORD', 'HF_TOKEN', 'NPM_TOKEN'])
      expect(isSecretEnvName(name), name).toBe(true);
    for (const name of ['NODE_ENV', 'PATH', 'HOME', 'PWD', 'OPENAI_BASE_URL', 'LANG', 'MAX_TOKENS'])
      expect(isSecretEnvName(name), name).toBe(false);
    expect(redactEnvValue('GITHUB_TOKEN', 'anything')).toBe(REDACTED);
    expect(redactEnvValue('DATABASE_URL', DSN)).not.toContain(URL_PASSWORD);
    expect(redactEnvValue('GREETING', 'hello')).toBe('hello');
  });
});

describe('the walk', () => {
  it('has no depth limit: secrets 100 and 10 000 levels deep are redacted, and the input is not modified', () => {
    for (const depth of [100, 10_000]) {
      const input = nest({ ...leakyObject(), text: leakyText() }, depth);
      const before = allStrings(input);
      const out = redactValue(input);
      expect(leaks(out), `depth ${depth}`).toEqual([]);
      expect(allStrings(input)).toBe(before);
      expect(scanValue(out), `depth ${depth}`).toEqual([]);
      expect(scanValue(input).length, `depth ${depth}`).toBeGreaterThan(20);
    }
  });

  it('returns the same reference when nothing changed, and cuts cycles', () => {
    const clean = { a: [1, 'two', { three: null }], b: 'text' };
    expect(redactValue(clean)).toBe(clean);
    const cyclic: Record<string, unknown> = { password: PASSWORD, list: [] };
    (cyclic.list as unknown[]).push(cyclic);
    cyclic.self = cyclic;
    const out = redactValue(cyclic) as Record<string, unknown>;
    expect(out.password).toBe(REDACTED);
    expect(out.self).toBe(CIRCULAR);
    expect((out.list as unknown[])[0]).toBe(CIRCULAR);
    expect(scanValue(cyclic).map((f) => f.path)).toEqual(['/password']);
  });

  it('scan reports nothing that redaction leaves, and masks what it reports', () => {
    const input = { headers: { authorization: `Bearer ${SHAPED.openaiProject.value}` }, body: leakyObject() };
    const findings = scanValue(input);
    expect(findings.length).toBeGreaterThan(10);
    for (const f of findings) expect(Object.values(allNeedles()).some((n) => f.preview.includes(n))).toBe(false);
    expect(findings[0]).toMatchObject({
      path: expect.stringMatching(/^\//),
      preview: expect.stringMatching(/…\(\d+ chars\)$/),
    });
    expect(scanValue(redactValue(input))).toEqual([]);
  });
});
