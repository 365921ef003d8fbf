import { canonicalJson, sha256Hex } from './canonical-json.js';
import { PROVIDER_AUTH_QUERY_PARAMS, providerFor, type ApiFamily } from '../providers/index.js';
import { redactBodyText, redactUrl, redactValue } from '../secrets/redact.js';
import { isSecretHeader, REDACTED } from '../secrets/shapes.js';
import type { LlmEndpoint } from './providers.js';

/**
 * Request identity: key = sha256(canonicalJson(normalize(request))) plus an occurrence index kept by the
 * caller (the n-th identical request), so retries and repeated calls replay in order.
 *
 * normalize keeps what decides the answer and drops what changes from run to run without changing it:
 *   - LLM requests are keyed by API family + operation (+ the model when the path names it), never by host: a proxy
 *     or a changed base URL still matches;
 *   - other HTTP by method, hostname (no port: a local server on a new port still matches), path and sorted query;
 *   - credentials in the query (key, token, signature…) never take part, nor do headers except `keepHeaders`;
 *   - JSON bodies are parsed and canonicalized (key order does not matter), minus volatile fields per provider;
 *   - everything is taken AFTER the default redaction (src/secrets/redact.ts, without a run's memory): the key reveals
 *     nothing the stored request does not show (no dictionary attack on a redacted password), and a replay whose
 *     secret differs from the recorded one still matches ("redact but still match"). Because the redaction is
 *     idempotent, normalizing a stored (already redacted) request gives the key of the live one: the replay cache
 *     re-keys recorded requests this way (src/replay/cache/build.ts), which is also how traces whose hashes were
 *     computed before redaction still replay.
 */
export interface NormalizationOptions {
  /** extra top-level body fields to drop, per provider family ('openai' covers openai-compatible) or 'http' */
  dropBodyFields?: Partial<Record<ApiFamily | 'http', readonly string[]>>;
  /** request headers that are part of the key (lower-case names) */
  keepHeaders?: readonly string[];
  /** key generic HTTP by path only, ignoring the hostname */
  ignoreHost?: boolean;
}

/** Fields that differ between runs of the same logical request (end-user ids, metadata, cache routing hints). */
export const DEFAULT_VOLATILE_BODY_FIELDS: Readonly<Record<ApiFamily | 'http', readonly string[]>> = {
  openai: providerFor({ provider: 'openai', operation: '', api: 'openai' }).volatileBodyFields,
  anthropic: providerFor({ provider: 'anthropic', operation: '', api: 'anthropic' }).volatileBodyFields,
  gemini: providerFor({ provider: 'gemini', operation: '', api: 'gemini' }).volatileBodyFields,
  bedrock: providerFor({ provider: 'bedrock', operation: '', api: 'bedrock' }).volatileBodyFields,
  http: [],
};

const SECRET_QUERY =
  /^(key|api[-_]?key|apikey|token|access[-_]?token|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code)$/i;

export interface KeyedRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** raw body text (or undefined) */
  body?: string;
}

export interface NormalizedRequest {
  kind: 'llm' | 'http';
  method: string;
  /** 'openai:chat.completions' for LLM requests, 'host/path' (or '/path') for HTTP */
  target: string;
  /** the model the URL path names (Gemini, Bedrock, Azure deployments); absent when the body names it */
  model?: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  /** parsed JSON minus volatile fields, or the raw text */
  body: unknown;
}

function family(endpoint: LlmEndpoint): ApiFamily {
  return endpoint.api ?? (endpoint.provider === 'anthropic' ? 'anthropic' : 'openai');
}

export type ParsedBody = { json: true; value: unknown } | { json: false; value: string | null };

/** The body as normalizeRequest sees it: parsed JSON, or the raw text (null when empty). */
export function parseBody(body: string | undefined): ParsedBody {
  if (body === undefined || body === '') return { json: false, value: null };
  try {
    return { json: true, value: JSON.parse(body) as unknown };
  } catch {
    return { json: false, value: body };
  }
}

/** `parsed`: parseBody(req.body) when the caller has it already (it is not modified, nor kept beyond its top level). */
export function normalizeRequest(
  req: KeyedRequest,
  endpoint: LlmEndpoint | undefined,
  options: NormalizationOptions = {},
  parsed: ParsedBody = parseBody(req.body),
): NormalizedRequest {
  let url: URL;
  const rawUrl = redactUrl(req.url);
  try {
    url = new URL(rawUrl);
  } catch {
    url = new URL(rawUrl, 'http://invalid.local');
  }
  const fam = endpoint ? family(endpoint) : 'http';
  const drop = new Set<string>([...DEFAULT_VOLATILE_BODY_FIELDS[fam], ...(options.dropBodyFields?.[fam] ?? [])]);
  let body: unknown = parsed.json
    ? redactValue(parsed.value)
    : parsed.value === null
      ? null
      : redactBodyText(parsed.value);
  if (parsed.json && body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (!drop.has(k)) copy[k] = v;
    body = copy;
  }
  const query = [...url.searchParams.entries()]
    .filter(([k]) => !SECRET_QUERY.test(k) && !PROVIDER_AUTH_QUERY_PARAMS.has(k.toLowerCase()))
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const headers: Record<string, string> = {};
  for (const name of options.keepHeaders ?? []) {
    const lower = name.toLowerCase();
    const value = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === lower)?.[1];
    if (value !== undefined) headers[lower] = isSecretHeader(lower) && value !== '' ? REDACTED : redactUrl(value);
  }
  const target = endpoint ? `${fam}:${endpoint.operation}` : `${options.ignoreHost ? '' : url.hostname}${url.pathname}`;
  const out: NormalizedRequest = {
    kind: endpoint ? 'llm' : 'http',
    method: req.method.toUpperCase(),
    target,
    query,
    headers,
    body,
  };
  if (endpoint?.pathModel !== undefined) out.model = endpoint.pathModel;
  return out;
}

export function requestHash(normalized: NormalizedRequest): string {
  return sha256Hex(canonicalJson(normalized));
}

/**
 * Counts occurrences of each request hash in order: the first request with hash h is occurrence 0, the next 1, …
 * The recorder and the replay cache each keep one per trace, so parallel identical calls get distinct answers.
 */
export class OccurrenceCounter {
  private readonly seen = new Map<string, number>();

  next(key: string): number {
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    return n;
  }
}
