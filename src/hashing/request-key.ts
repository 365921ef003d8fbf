import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { LlmEndpoint } from './providers.js';

/**
 * Request identity: key = sha256(canonicalJson(normalize(request))) plus an occurrence index kept by the
 * caller (the n-th identical request), so retries and repeated calls replay in order.
 *
 * normalize keeps what decides the answer and drops what changes from run to run without changing it:
 *   - LLM requests are keyed by provider family + operation, not by URL: a proxy or a changed base URL still matches;
 *   - other HTTP by method, hostname (no port: a local server on a new port still matches), path and sorted query;
 *   - credentials in the query (key, token, signature…) never take part, nor do headers except `keepHeaders`;
 *   - JSON bodies are parsed and canonicalized (key order does not matter), minus volatile fields per provider.
 */
export interface NormalizationOptions {
  /** extra top-level body fields to drop, per provider family ('openai' covers openai-compatible) or 'http' */
  dropBodyFields?: Partial<Record<'openai' | 'anthropic' | 'http', readonly string[]>>;
  /** request headers that are part of the key (lower-case names) */
  keepHeaders?: readonly string[];
  /** key generic HTTP by path only, ignoring the hostname */
  ignoreHost?: boolean;
}

/** Fields that differ between runs of the same logical request (end-user ids, metadata, cache routing hints). */
export const DEFAULT_VOLATILE_BODY_FIELDS = {
  openai: ['user', 'metadata', 'prompt_cache_key', 'safety_identifier', 'service_tier', 'store'],
  anthropic: ['metadata'],
  http: [],
} as const satisfies Record<'openai' | 'anthropic' | 'http', readonly string[]>;

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
  query: Array<[string, string]>;
  headers: Record<string, string>;
  /** parsed JSON minus volatile fields, or the raw text */
  body: unknown;
}

function family(endpoint: LlmEndpoint): 'openai' | 'anthropic' {
  return endpoint.provider === 'anthropic' ? 'anthropic' : 'openai';
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
  try {
    url = new URL(req.url);
  } catch {
    url = new URL(req.url, 'http://invalid.local');
  }
  const fam = endpoint ? family(endpoint) : 'http';
  const drop = new Set<string>([...DEFAULT_VOLATILE_BODY_FIELDS[fam], ...(options.dropBodyFields?.[fam] ?? [])]);
  let body: unknown = parsed.value;
  if (parsed.json && body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (!drop.has(k)) copy[k] = v;
    body = copy;
  }
  const query = [...url.searchParams.entries()]
    .filter(([k]) => !SECRET_QUERY.test(k))
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const headers: Record<string, string> = {};
  for (const name of options.keepHeaders ?? []) {
    const lower = name.toLowerCase();
    const value = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === lower)?.[1];
    if (value !== undefined) headers[lower] = value;
  }
  const target = endpoint ? `${fam}:${endpoint.operation}` : `${options.ignoreHost ? '' : url.hostname}${url.pathname}`;
  return { kind: endpoint ? 'llm' : 'http', method: req.method.toUpperCase(), target, query, headers, body };
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
