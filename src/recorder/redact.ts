import type { NewEvent } from '../events/envelope.js';

/**
 * Redaction: the store is immutable, so secrets are removed before the append, never after. On by default.
 *   1. headers by name (authorization, x-api-key, cookie, …) → "[REDACTED]";
 *   2. JSON fields whose name says "credential" (api_key, client_secret, password, aws_secret_access_key, …) when
 *      their value is a string;
 *   3. known key shapes anywhere in any string (bodies, URLs and query strings, stream chunks, tool arguments and
 *      results, error messages): OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, AWS access key ids `AKIA…`/`ASIA…`
 *      and the 40-character secret next to them, `Bearer …` tokens, Google `AIza…`, GitHub and Slack tokens;
 *   4. query parameters named like credentials (key, api_key, token, signature, X-Amz-Signature, …);
 *   5. the user's `redact` hook, last, on the already-redacted event.
 */
export const REDACTED = '[REDACTED]';

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
]);
const SECRET_HEADER_PATTERN =
  /(^|[-_])(secret|password|passwd|api[-_]?key|apikey|access[-_]?token|auth[-_]?token|session[-_]?token|refresh[-_]?token|private[-_]?key)($|[-_])/i;

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADER_NAMES.has(lower) || SECRET_HEADER_PATTERN.test(lower);
}

/** Object keys whose string values are credentials wherever they appear in a JSON body or tool arguments. */
const SECRET_FIELD_PATTERN =
  /^(api[-_]?key|apikey|x[-_]api[-_]key|secret|client[-_]?secret|password|passwd|passphrase|private[-_]?key|access[-_]?token|refresh[-_]?token|id[-_]?token|auth[-_]?token|session[-_]?token|bearer[-_]?token|authorization|cookie|(aws[-_]?)?secret[-_]?access[-_]?key|aws[-_]?session[-_]?token|token)$/i;

const SECRET_QUERY_PATTERN =
  /^(key|api[-_]?key|apikey|token|access[-_]?token|auth|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code|password|secret|client[-_]?secret)$/i;

interface Shape {
  name: string;
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
}

/** Key shapes, most specific first. Every pattern is global and linear (no nested quantifiers). */
const SHAPES: readonly Shape[] = [
  // Anthropic: sk-ant-api03-…, sk-ant-admin01-…
  { name: 'anthropic', pattern: /sk-ant-[A-Za-z0-9]{2,12}-[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  // OpenAI: sk-…, sk-proj-…, sk-svcacct-…, sk-admin-… (also OpenAI-compatible servers that copy the shape)
  { name: 'openai', pattern: /\bsk-[A-Za-z0-9][A-Za-z0-9_-]{15,}/g, replace: REDACTED },
  // AWS secret access key written next to its name: aws_secret_access_key = "…", AWS_SECRET_ACCESS_KEY: …
  {
    name: 'aws-secret-named',
    pattern: /(secret[-_ ]?access[-_ ]?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi,
    replace: (_m, prefix) => `${prefix}${REDACTED}`,
  },
  // AWS access key ids (long-term AKIA, temporary ASIA, and the other documented prefixes)
  {
    name: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: REDACTED,
  },
  // Bearer tokens in free text (headers are redacted by name; this catches them in logs, bodies, errors)
  { name: 'bearer', pattern: /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, replace: (_m, prefix) => `${prefix}${REDACTED}` },
  // Basic auth credentials inside URLs: https://user:pass@host
  {
    name: 'url-userinfo',
    pattern: /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi,
    replace: (_m, scheme) => `${scheme}${REDACTED}@`,
  },
  // Google API keys
  { name: 'google', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: REDACTED },
  // GitHub tokens
  { name: 'github', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/g, replace: REDACTED },
  // Slack tokens
  { name: 'slack', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: REDACTED },
];

/** One cheap test that rules out most strings before the per-shape replacements run. */
const PREFILTER =
  /sk-|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|[Bb][Ee][Aa][Rr][Ee][Rr]\s|secret|SECRET|Secret|:\/\/[^\s/@]+@|AIza|gh[pousr]_|github_pat_|xox[abposr]-/;

/** A 40-character AWS secret standing alone, redacted only in a string that also holds an AWS access key id. */
const AWS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/;
const AWS_SECRET_ALONE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * Secrets found while redacting one run: once a value was recognised (by shape, by field name, next to an AWS key id),
 * every later copy of it in the same run is redacted too — e.g. an AWS secret the model echoes back in a streamed
 * chunk, where the key id that identified it is in another chunk.
 */
let collector: Set<string> | undefined;
const MIN_REMEMBERED = 8;

function remember(secret: string): void {
  if (collector && secret.length >= MIN_REMEMBERED && secret !== REDACTED) collector.add(secret);
}

/** Replaces every known key shape in a string. */
export function redactString(value: string): string {
  if (!PREFILTER.test(value)) return value;
  let out = value;
  if (AWS_KEY_ID.test(out)) {
    out = out.replace(AWS_SECRET_ALONE, (m) => {
      if (!(/[0-9]/.test(m) && /[A-Za-z]/.test(m))) return m;
      remember(m);
      return REDACTED;
    });
  }
  for (const shape of SHAPES) {
    shape.pattern.lastIndex = 0;
    const replace = shape.replace;
    out = out.replace(shape.pattern, (match: string, ...groups: unknown[]) => {
      const prefix = typeof replace === 'string' ? '' : String(groups[0] ?? '');
      remember(match.slice(prefix.length));
      return typeof replace === 'string'
        ? replace
        : replace(match, ...(groups.filter((g) => typeof g === 'string') as string[]));
    });
  }
  return out;
}

function replaceKnown(value: string, known: ReadonlySet<string>): string {
  let out = value;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function replaceKnownDeep(value: unknown, known: ReadonlySet<string>, depth = 0): unknown {
  if (typeof value === 'string') return replaceKnown(value, known);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = replaceKnownDeep(value[i], known, depth + 1);
      if (next !== value[i]) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const next = replaceKnownDeep(record[key], known, depth + 1);
    if (next !== record[key]) (copy ??= { ...record })[key] = next;
  }
  return copy ?? value;
}

/** Redacts credential query parameters by name, and key shapes anywhere in the URL. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactString(raw);
  }
  let changed = false;
  for (const key of new Set(url.searchParams.keys())) {
    if (SECRET_QUERY_PATTERN.test(key)) {
      for (const v of url.searchParams.getAll(key)) remember(v);
      url.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    changed = true;
  }
  return redactString(changed ? url.toString() : raw);
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (isSecretHeader(name)) {
      // "Bearer sk-…" / "Basic …": remember the credential itself, not the scheme
      remember(value.replace(/^(Bearer|Basic|Token)\s+/i, ''));
      out[name] = REDACTED;
    } else {
      out[name] = redactString(value);
    }
  }
  return out;
}

/**
 * Deep-redacts a JSON value (objects, arrays, strings). Returns the same reference when nothing changed, so clean
 * payloads cost one walk and no copies.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = redactValue(item, depth + 1);
      if (next !== item) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    let next: unknown;
    if (typeof item === 'string' && item !== '' && item !== REDACTED && SECRET_FIELD_PATTERN.test(key)) {
      remember(item);
      next = REDACTED;
    } else next = redactValue(item, depth + 1);
    if (next !== item) {
      copy ??= { ...record };
      copy[key] = next;
    }
  }
  return copy ?? value;
}

/**
 * Redacts a JSON text body: parsed and walked when it is JSON (so field-name rules apply), shape-matched otherwise.
 * Returns the text unchanged when nothing matched.
 */
export function redactBodyText(text: string): string {
  if (text === '') return text;
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      const parsed = JSON.parse(text) as unknown;
      const redacted = redactValue(parsed);
      return redacted === parsed ? text : JSON.stringify(redacted);
    } catch {
      // not JSON after all
    }
  }
  if (text.includes('=') && !text.includes('\n') && !text.includes(' ')) {
    // form-encoded: redact credential fields by name
    try {
      const params = new URLSearchParams(text);
      let changed = false;
      for (const key of new Set(params.keys())) {
        if (SECRET_QUERY_PATTERN.test(key) || SECRET_FIELD_PATTERN.test(key)) {
          for (const v of params.getAll(key)) remember(v);
          params.set(key, REDACTED);
          changed = true;
        }
      }
      if (changed) return redactString(params.toString());
    } catch {
      // not form-encoded
    }
  }
  return redactString(text);
}

/** A user hook: gets the event after the default redaction, returns the event to store (or a changed copy). */
export type RedactHook = (event: NewEvent) => NewEvent | undefined | void;

/**
 * Applies the default rules to one event. With `memory` (one Set per run), secrets recognised in earlier events of the
 * run are also replaced wherever they appear again.
 */
export function redactEventDefaults(event: NewEvent, memory?: Set<string>): NewEvent {
  const previous = collector;
  collector = memory;
  try {
    const redacted = redactByType(event);
    return memory && memory.size > 0
      ? ({ ...redacted, payload: replaceKnownDeep(redacted.payload, memory) } as NewEvent)
      : redacted;
  } finally {
    collector = previous;
  }
}

function redactByType(event: NewEvent): NewEvent {
  switch (event.type) {
    case 'llm_request':
      return {
        ...event,
        payload: {
          ...event.payload,
          url: redactUrl(event.payload.url),
          headers: redactHeaders(event.payload.headers),
          body: redactValue(event.payload.body),
        },
      };
    case 'http_request':
      return {
        ...event,
        payload: {
          ...event.payload,
          url: redactUrl(event.payload.url),
          headers: redactHeaders(event.payload.headers),
          ...(event.payload.body !== undefined && event.payload.bodyEncoding !== 'base64'
            ? { body: redactBodyText(event.payload.body) }
            : {}),
        },
      };
    case 'llm_response':
    case 'http_response': {
      const p = event.payload as Record<string, unknown> & {
        headers?: Record<string, string>;
        body?: unknown;
        bodyEncoding?: string;
      };
      const out: Record<string, unknown> = { ...p };
      if (p.headers) out.headers = redactHeaders(p.headers);
      if (typeof p.body === 'string') out.body = p.bodyEncoding === 'base64' ? p.body : redactBodyText(p.body);
      else if (p.body !== undefined) out.body = redactValue(p.body);
      if (p.chunks !== undefined) out.chunks = redactValue(p.chunks);
      if (p.error !== undefined) out.error = redactValue(p.error);
      return { ...event, payload: out } as NewEvent;
    }
    default:
      return { ...event, payload: redactValue(event.payload) } as NewEvent;
  }
}
