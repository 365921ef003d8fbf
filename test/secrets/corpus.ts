import { generateKeyPairSync } from 'node:crypto';

/**
 * A secrets corpus: one realistic value per shape the redaction knows (formats as the providers issue them; the random
 * parts from a fixed-seed generator, so runs are reproducible and nothing here is a live credential). `needle` is what
 * a byte search of the store looks for: the secret itself, or for multi-line secrets a distinctive line of it.
 */

/** mulberry32: a fixed-seed generator whose output looks like the random parts of real keys */
function rand(alphabet: string, n: number, seed: number): string {
  let a = seed * 0x9e3779b9;
  let out = '';
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out += alphabet[((t ^ (t >>> 14)) >>> 0) % alphabet.length];
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

const rsa = String(
  generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }),
).trim();
const ec = String(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
).trim();

/** a line from the middle of a PEM block: present in the store only if the key body leaked */
function pemNeedle(pem: string): string {
  const lines = pem.trim().split('\n');
  return lines[Math.floor(lines.length / 2)] as string;
}

export interface CorpusEntry {
  /** the shape name `retrace scan` reports for it (a value found by its field name reports "secret-field") */
  shape: string;
  value: string;
  needle: string;
}

function entry(shape: string, value: string, needle = value): CorpusEntry {
  return { shape, value, needle };
}

const jwtHeader = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: rand(HEX, 16, 41) }));
const jwtClaims = b64url(
  JSON.stringify({ sub: 'user_8812', iss: 'https://auth.acme.test', exp: 1_893_456_000, scope: 'orders:write' }),
);

/** Secrets recognised by their shape wherever they appear in a string. */
export const SHAPED = {
  openaiProject: entry('openai', `sk-proj-${rand(B64URL, 156, 1)}`),
  anthropic: entry('anthropic', `sk-ant-api03-${rand(B64URL, 93, 2)}-${rand(ALNUM, 6, 3)}AA`),
  stripeLive: entry('stripe', `sk_live_51${rand(ALNUM, 97, 4)}`),
  stripeRestricted: entry('stripe', `rk_live_51${rand(ALNUM, 97, 5)}`),
  stripeTest: entry('stripe', `sk_test_${rand(ALNUM, 24, 6)}`),
  huggingface: entry('huggingface', `hf_${rand(ALNUM.slice(0, 52), 34, 7)}`),
  jwt: entry('jwt', `${jwtHeader}.${jwtClaims}.${rand(B64URL, 86, 8)}`),
  pemRsa: entry('pem-private-key', rsa, pemNeedle(rsa)),
  pemEc: entry('pem-private-key', ec, pemNeedle(ec)),
  awsAccessKeyId: entry('aws-access-key-id', `AKIA${rand(UPPER, 16, 9)}`),
  awsTempKeyId: entry('aws-access-key-id', `ASIA${rand(UPPER, 16, 10)}`),
  gitlab: entry('gitlab', `glpat-${rand(B64URL, 20, 11)}`),
  slackBot: entry('slack', `xoxb-${rand('0123456789', 12, 12)}-${rand('0123456789', 13, 13)}-${rand(ALNUM, 24, 14)}`),
  slackUser: entry(
    'slack',
    `xoxp-${rand('0123456789', 12, 15)}-${rand('0123456789', 12, 16)}-${rand('0123456789', 13, 17)}-${rand(HEX, 32, 18)}`,
  ),
  googleOauth: entry('google-oauth', `ya29.a0${rand(B64URL, 160, 19)}`),
  googleApiKey: entry('google-api-key', `AIza${rand(B64URL, 35, 20)}`),
  sendgrid: entry('sendgrid', `SG.${rand(B64URL, 22, 21)}.${rand(B64URL, 43, 22)}`),
  twilioAccount: entry('twilio', `AC${rand(HEX, 32, 23)}`),
  twilioApiKey: entry('twilio', `SK${rand(HEX, 32, 24)}`),
  npm: entry('npm', `npm_${rand(ALNUM, 36, 25)}`),
  githubClassic: entry('github', `ghp_${rand(ALNUM, 36, 26)}`),
  githubOauth: entry('github', `gho_${rand(ALNUM, 36, 27)}`),
  githubServer: entry('github', `ghs_${rand(ALNUM, 36, 28)}`),
  githubFine: entry('github', `github_pat_11${rand(UPPER, 20, 29)}_${rand(ALNUM, 59, 30)}`),
} as const satisfies Record<string, CorpusEntry>;

/** An AWS secret access key: 40 characters with nothing to recognise it by but its field name or its key id. */
export const AWS_SECRET = `${rand(B64, 38, 31)}x9`;
/** A Twilio auth token: 32 hex characters, recognised by its field name. */
export const TWILIO_AUTH_TOKEN = rand(HEX, 32, 32);
/** Low-entropy passwords: only their field names give them away. */
export const PASSWORD = 'correct-horse-battery-staple-42';
export const DB_PASSWORD = 'Pg-s3cret-Winter2026';
/** A random value under a *_KEY name. */
export const DEPLOY_KEY = rand(ALNUM, 40, 33);
export const BASIC_USERPASS = `deploy-bot:${rand(ALNUM, 20, 34)}`;
export const BASIC = `Basic ${Buffer.from(BASIC_USERPASS).toString('base64')}`;
export const URL_PASSWORD = `Zx${rand(ALNUM, 18, 35)}`;
export const DSN = `postgres://app_user:${URL_PASSWORD}@db.internal.test:5432/orders`;
export const CALLBACK_PASSWORD = `Qv${rand(ALNUM, 18, 36)}`;
/** user:password@ inside a query string (a redirect target), plain and percent-encoded */
export const QUERY_WITH_CREDENTIALS = `next=${encodeURIComponent(`https://admin:${CALLBACK_PASSWORD}@internal.test/cb`)}`;

/** Every needle a byte search of a store must not find (plus the encoded forms the caller adds). */
export function allNeedles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, e] of Object.entries(SHAPED)) out[name] = e.needle;
  Object.assign(out, {
    awsSecret: AWS_SECRET,
    twilioAuthToken: TWILIO_AUTH_TOKEN,
    password: PASSWORD,
    dbPassword: DB_PASSWORD,
    deployKey: DEPLOY_KEY,
    basic: Buffer.from(BASIC_USERPASS).toString('base64'),
    basicUserPass: BASIC_USERPASS.split(':')[1] as string,
    urlPassword: URL_PASSWORD,
    callbackPassword: CALLBACK_PASSWORD,
  });
  return out;
}

/** All the shaped secrets in one line of prose, the way they end up in prompts, logs and error messages. */
export function leakyText(): string {
  return `creds: ${Object.values(SHAPED)
    .filter((e) => e.shape !== 'pem-private-key')
    .map((e) => e.value)
    .join(' , ')} aws ${SHAPED.awsAccessKeyId.value} ${AWS_SECRET} db ${DSN} auth ${BASIC}`;
}

/** A JSON value carrying every secret by field name and by shape. */
export function leakyObject(): Record<string, unknown> {
  return {
    aws_access_key_id: SHAPED.awsAccessKeyId.value,
    aws_secret_access_key: AWS_SECRET,
    SecretAccessKey: AWS_SECRET,
    twilio: { account_sid: SHAPED.twilioAccount.value, auth_token: TWILIO_AUTH_TOKEN },
    password: PASSWORD,
    passwd: DB_PASSWORD,
    DEPLOY_KEY,
    apiKey: SHAPED.stripeLive.value,
    authorization: BASIC,
    cookie: `__Host-session=${DEPLOY_KEY}`,
    pem: SHAPED.pemRsa.value,
    ecKey: SHAPED.pemEc.value,
    dsn: DSN,
    note: leakyText(),
  };
}

/** `value` wrapped in `depth` levels of alternating objects and arrays. */
export function nest(value: unknown, depth: number): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { level: i, inner: v } : [v];
  return v;
}
