/**
 * The catalogue of what a secret looks like: key shapes found anywhere in a string, and the names (of JSON fields,
 * headers, query parameters, environment variables) whose values are credentials. One module, used by the redaction
 * before every append (src/secrets/redact.ts) and by `retrace scan` (src/secrets/scan.ts), so what scan reports is
 * exactly what redaction would have removed.
 */

import { PROVIDER_AUTH_HEADERS, PROVIDER_AUTH_QUERY_PARAMS } from '../providers/index.js';
export const REDACTED = '[REDACTED]';

export interface SecretShape {
  /** stable name, shown by `retrace scan` */
  name: string;
  /** global, linear (no nested quantifiers) */
  pattern: RegExp;
  /** a leading capture group that is context, not secret (e.g. "Bearer "), kept by redaction */
  keepsPrefix?: true;
  /** a match is a secret only when this says so (e.g. Basic credentials must decode to "user:password") */
  accept?: (secret: string) => boolean;
}

function decodesToUserPassword(b64: string): boolean {
  if (b64.length % 4 === 1) return false;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  // printable "user:password": prose such as "Basic instructions" decodes to binary noise
  return /^[\x20-\x7e]{1,}:[\x20-\x7e]*$/.test(text) && text.indexOf(':') > 0;
}

/** Key shapes, most specific first (a later shape never sees what an earlier one replaced). */
export const SECRET_SHAPES: readonly SecretShape[] = [
  {
    name: 'pem-private-key',
    pattern:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { name: 'anthropic', pattern: /sk-ant-[A-Za-z0-9]{2,12}-[A-Za-z0-9_-]{16,}/g },
  // sk-…, sk-proj-…, sk-svcacct-…, sk-admin-… (and OpenAI-compatible servers that copy the shape)
  { name: 'openai', pattern: /\bsk-[A-Za-z0-9][A-Za-z0-9_-]{15,}/g },
  // secret and restricted keys, live and test mode; webhook signing secrets
  { name: 'stripe', pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g },
  { name: 'stripe-webhook-secret', pattern: /\bwhsec_[A-Za-z0-9+/=]{20,}/g },
  { name: 'huggingface', pattern: /\bhf_[A-Za-z0-9]{30,}/g },
  {
    name: 'github',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/g,
  },
  { name: 'gitlab', pattern: /\bgl(?:pat|dt|rt|ptt|cbt|soat|oas)-[A-Za-z0-9_-]{20,}/g },
  { name: 'slack', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { name: 'slack-app', pattern: /\bxapp-\d-[A-Za-z0-9-]{10,}/g },
  {
    name: 'slack-webhook',
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{20,}/g,
  },
  { name: 'google-oauth', pattern: /\bya29\.[A-Za-z0-9_-]{20,}/g },
  { name: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { name: 'sendgrid', pattern: /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}/g },
  // account and API key SIDs (the auth token that goes with them is a 32-hex value in a field of its own)
  { name: 'twilio', pattern: /\b(?:AC|SK)[0-9a-f]{32}\b/g },
  { name: 'npm', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { name: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g },
  // an AWS secret access key written next to its name: aws_secret_access_key = "…", "SecretAccessKey": "…"
  {
    name: 'aws-secret-access-key',
    pattern: /(secret[-_ ]?access[-_ ]?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi,
    keepsPrefix: true,
  },
  // long-term AKIA, temporary ASIA, and the other documented key id prefixes
  { name: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g },
  { name: 'bearer', pattern: /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, keepsPrefix: true },
  {
    name: 'basic-auth',
    pattern: /\b(Basic\s+)[A-Za-z0-9+/]{6,}={0,2}(?![A-Za-z0-9+/=])/gi,
    keepsPrefix: true,
    accept: decodesToUserPassword,
  },
  // user:password@ in any URL anywhere in a string (a URL inside a query string, a log line, a DSN)
  // the same, percent-encoded (a redirect URL in a query string or form value, copied into a log or a prompt)
  {
    name: 'url-credentials',
    pattern: /(\b[a-z][a-z0-9+.-]*%3A%2F%2F)[A-Za-z0-9._~!$'()*+,;=-]*%3A[^\s/?#&]*?(?=%40)/gi,
    keepsPrefix: true,
  },
  { name: 'url-credentials', pattern: /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@:]*:[^\s/?#]+(?=@)/gi, keepsPrefix: true },
];

/**
 * One cheap test that rules out most strings before the per-shape patterns run: every shape above contains one of
 * these. Grouped by first character, so the engine tries few alternatives per position (a flat alternation of the
 * same literals measured ~3× slower on prose).
 */
const SHAPE_PREFILTER =
  /-----BEGIN|s(?:k[-_]|ecret)|rk_|whsec_|hf_|g(?:h[pousr]_|ithub_pat_|l(?:pat|dt|rt|ptt|cbt|soat|oas)-)|x(?:ox|app-)|hooks\.slack|ya29\.|A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|NPA|NVA|IPA|Iza|C[0-9a-f])|S(?:G\.|K[0-9a-f]|ECRET|ecret)|npm_|eyJ|[Bb](?:[Ee][Aa][Rr][Ee][Rr]|[Aa][Ss][Ii][Cc])\s|:\/\/[^\s/?#@]*:|%3[Aa]%2[Ff]%2[Ff]/;

/** false when no shape can match (most strings); true means "run the shapes". */
export function mayHoldShape(text: string): boolean {
  return SHAPE_PREFILTER.test(text);
}

/** AWS key id, and a 40-character secret standing alone: redacted only in a string that also holds a key id. */
export const AWS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/;
export const AWS_SECRET_ALONE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

export interface ShapeMatch {
  shape: string;
  /** offsets of the secret itself (without a kept prefix) */
  start: number;
  end: number;
}

/** Every shape found in a string, in order, non-overlapping (earlier shapes in the catalogue win). */
export function findShapes(text: string): ShapeMatch[] {
  if (!mayHoldShape(text)) return [];
  const out: ShapeMatch[] = [];
  const taken = (s: number, e: number): boolean => out.some((m) => s < m.end && e > m.start);
  for (const shape of SECRET_SHAPES) {
    shape.pattern.lastIndex = 0;
    for (let m = shape.pattern.exec(text); m !== null; m = shape.pattern.exec(text)) {
      if (m[0].length === 0) {
        shape.pattern.lastIndex++;
        continue;
      }
      const prefix = shape.keepsPrefix ? (m[1] ?? '').length : 0;
      const start = m.index + prefix;
      const end = m.index + m[0].length;
      const secret = text.slice(start, end);
      if (shape.accept && !shape.accept(secret)) continue;
      if (!taken(start, end)) out.push({ shape: shape.name, start, end });
    }
  }
  if (AWS_KEY_ID.test(text)) {
    AWS_SECRET_ALONE.lastIndex = 0;
    for (let m = AWS_SECRET_ALONE.exec(text); m !== null; m = AWS_SECRET_ALONE.exec(text)) {
      const s = m[0];
      if (/[0-9]/.test(s) && /[A-Za-z]/.test(s) && !taken(m.index, m.index + s.length))
        out.push({ shape: 'aws-secret-access-key', start: m.index, end: m.index + s.length });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------------------------
// Names whose values are credentials

/** "clientSecret", "Client-Secret", "CLIENT_SECRET" → "client_secret" */
export function normalizeName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-.\s]+/g, '_')
    .toLowerCase();
}

/** A value under one of these names is a credential whatever it looks like (a password may well be "hunter2"). */
const ALWAYS_SECRET =
  /(?:^|_)(?:password|passwd|passphrase|secret|secrets|api_?key|apikey|authorization|cookie|cookies|credential|credentials|private_key|privkey|token|access_token|refresh_token|id_token|auth_token|session_token|bearer_token|security_token|session_key|signing_key|encryption_key|master_key|pat)$|(?:^|_)(?:secret|password|passwd)(?:_|$)/;

/** A value under one of these names is a credential when it looks random (an id, a cache key, a page token is not). */
const SECRET_WHEN_RANDOM = /(?:^|_)(?:key|sid|sig|signature|auth|dsn)$|token/;

/** Names matching SECRET_WHEN_RANDOM that, by convention, never hold credentials. */
const NOT_SECRET =
  /(?:^|_)(?:idempotency|cache|sort|partition|primary|foreign|public|object|row|dedup|dedupe|request|trace|span|message|event|group|lookup|hash|max|input|output|total|prompt|completion|reasoning|cached)_(?:key|tokens?)$|^(?:max|input|output|total|prompt|completion)_?tokens|_tokens$|^tokens$|^tokenizer|^token_(?:type|count|usage|limit|logprobs)$|^(?:next|prev|previous|page|continuation)_(?:page_)?token$|^key$/;

export type NameClass = 'always' | 'when-random' | undefined;

const nameCache = new Map<string, NameClass>();

/** How a field, header, query parameter or environment variable name ranks as a credential holder. */
export function classifyName(name: string): NameClass {
  const cached = nameCache.get(name);
  if (cached !== undefined || nameCache.has(name)) return cached;
  const n = normalizeName(name);
  let c: NameClass;
  if (NOT_SECRET.test(n)) c = undefined;
  else if (ALWAYS_SECRET.test(n)) c = 'always';
  else if (SECRET_WHEN_RANDOM.test(n)) c = 'when-random';
  if (nameCache.size > 5000) nameCache.clear();
  nameCache.set(name, c);
  return c;
}

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Looks like a generated credential: long, one word, letters and digits mixed, and close to random. */
export function looksRandom(value: string): boolean {
  if (value.length < 16 || value.length > 8192 || /\s/.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  return entropy(value) >= 3;
}

/** The value of this named field is a credential (and would be redacted whole). */
export function isSecretNamedValue(name: string, value: string): boolean {
  // "Basic [REDACTED]", "postgres://[REDACTED]@db": what was secret in it is gone already
  if (value === '' || value.includes(REDACTED)) return false;
  const c = classifyName(name);
  return c === 'always' || (c === 'when-random' && looksRandom(value));
}

/** Request and response header names whose values are credentials (lower case). */
export const SECRET_HEADER_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'anthropic-api-key',
  'x-anthropic-api-key',
  'openai-api-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-access-token',
  'x-amz-security-token',
  'x-amz-credential',
  'x-csrf-token',
  'x-xsrf-token',
  'x-session-token',
  'x-refresh-token',
  'x-client-secret',
  'x-twilio-signature',
  'stripe-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-slack-signature',
  'private-token',
  'job-token',
  'x-gitlab-token',
  'x-npm-token',
]);

/** A header whose whole value is redacted. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  // each provider declares its own auth headers (src/providers/*/index.ts)
  return SECRET_HEADER_NAMES.has(lower) || PROVIDER_AUTH_HEADERS.has(lower) || classifyName(lower) === 'always';
}

/** Query parameters named like credentials. */
const SECRET_QUERY =
  /^(?:key|api[-_]?key|apikey|token|access[-_]?token|auth|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code|password|passwd|secret|client[-_]?secret|private[-_]?token|refresh[-_]?token|id[-_]?token)$/i;

export function isSecretQueryName(name: string): boolean {
  return (
    SECRET_QUERY.test(name) || PROVIDER_AUTH_QUERY_PARAMS.has(name.toLowerCase()) || classifyName(name) === 'always'
  );
}

/**
 * An environment variable whose value is a credential by its name alone (OPENAI_API_KEY, STRIPE_SECRET_KEY,
 * GITHUB_TOKEN, DB_PASSWORD, …). For the others, redact the value with redactEnvValue (src/secrets/redact.ts).
 */
export function isSecretEnvName(name: string): boolean {
  const n = normalizeName(name);
  if (classifyName(name) === 'always') return true;
  return /(?:^|_)(?:key|token|tokens|secret|auth|dsn|pat|credentials?|cookie)(?:_|$)/.test(n) && !NOT_SECRET.test(n);
}
