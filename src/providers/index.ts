import { anthropic } from './anthropic/index.js';
import { azureOpenai } from './azure/index.js';
import { bedrock } from './bedrock/index.js';
import { EVENT_STREAM_CONTENT_TYPE, frameEventMessage, type EventMessage } from './bedrock/event-stream.js';
import { gemini } from './gemini/index.js';
import { openai } from './openai/index.js';
import type { ApiFamily, LlmEndpoint, LlmProvider, MatchInput } from './types.js';

export type { ApiFamily, LlmEndpoint, LlmOutcome, LlmProvider, LlmUsage, MatchInput, StreamParser } from './types.js';
export { compatibleProviderName } from './openai/hosts.js';

/**
 * The providers retrace knows, most specific path first (an Azure deployment path also ends like an OpenAI one).
 * Adding a provider: a folder next to these exporting an LlmProvider, listed here (docs/providers.md).
 */
export const PROVIDERS: readonly LlmProvider[] = [azureOpenai, gemini, bedrock, anthropic, openai];

const BY_API: Record<ApiFamily, LlmProvider> = { openai, anthropic, gemini, bedrock };

/** A base URL the user declared as an LLM endpoint (config `providers`, OPENAI_BASE_URL, ANTHROPIC_BASE_URL). */
export interface ProviderBaseUrl {
  baseUrl: string;
  /** 'openai-compatible' (default for strings), 'openai', 'anthropic', 'azure-openai', 'gemini', 'bedrock', or a
   *  name of your own for an OpenAI-compatible server ('my-gateway') */
  provider: string;
}

export interface EndpointConfig {
  /** base URLs whose requests are LLM calls even when the body does not look like one */
  include?: readonly ProviderBaseUrl[];
  /** base URLs (origin + path prefix) whose requests are plain HTTP even when they look like LLM calls */
  exclude?: readonly string[];
}

/** The implementation behind a provider name as recorded in events and config. */
export function providerByName(name: string): LlmProvider {
  switch (name) {
    case 'anthropic':
      return anthropic;
    case 'gemini':
    case 'vertex-ai':
      return gemini;
    case 'bedrock':
      return bedrock;
    case 'azure-openai':
      return azureOpenai;
    default:
      return openai;
  }
}

/** The implementation that parses an endpoint's requests and responses. */
export function providerFor(endpoint: LlmEndpoint): LlmProvider {
  return endpoint.api === 'openai' && endpoint.pathModel !== undefined ? azureOpenai : BY_API[endpoint.api];
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

function under(url: URL, base: string): boolean {
  let b: URL;
  try {
    b = new URL(base);
  } catch {
    return false;
  }
  return b.host === url.host && trimSlash(url.pathname).startsWith(trimSlash(b.pathname));
}

export interface DetectInput {
  method: string;
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** the parsed JSON body (called only when the path could be an LLM call) */
  body?: () => unknown;
}

/**
 * Whether a request is an LLM call, and of which provider and operation: by path suffix and body shape under any host
 * and prefix; a configured base URL decides by path alone; an excluded one never is.
 */
export function detectLlmEndpoint(input: DetectInput, config: EndpointConfig = {}): LlmEndpoint | undefined {
  const method = input.method.toUpperCase();
  if (method !== 'POST') return undefined;
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return undefined;
  }
  for (const ex of config.exclude ?? []) if (under(url, ex)) return undefined;
  for (const c of config.include ?? []) {
    if (!under(url, c.baseUrl)) continue;
    const p = providerByName(c.provider);
    const hit = p.matchPath(url, c.provider) ?? (p === azureOpenai ? openai.matchPath(url, c.provider) : undefined);
    if (hit) return hit;
  }
  let body: { value: unknown } | undefined;
  const match: MatchInput = {
    method,
    url,
    headers: input.headers ?? {},
    get body() {
      body ??= { value: input.body?.() };
      return body.value;
    },
  };
  for (const p of PROVIDERS) {
    const hit = p.match(match);
    if (hit) return hit;
  }
  return undefined;
}

const API_OF_OPERATION: Record<string, ApiFamily> = {
  messages: 'anthropic',
  generateContent: 'gemini',
  streamGenerateContent: 'gemini',
  countTokens: 'gemini',
  embedContent: 'gemini',
  batchEmbedContents: 'gemini',
  converse: 'bedrock',
  'converse-stream': 'bedrock',
  invoke: 'bedrock',
  'invoke-with-response-stream': 'bedrock',
};

/** The endpoint of a recorded llm_request/llm_response (events store provider and operation; the URL the rest). */
export function recordedEndpoint(p: { provider: string; operation: string; url?: string }): LlmEndpoint {
  const api: ApiFamily = API_OF_OPERATION[p.operation] ?? (p.provider === 'anthropic' ? 'anthropic' : 'openai');
  const endpoint: LlmEndpoint = { provider: p.provider, operation: p.operation, api };
  if (p.url !== undefined) {
    try {
      const url = new URL(p.url);
      const impl = api === 'openai' ? azureOpenai : BY_API[api];
      const pathModel = impl.matchPath(url, p.provider)?.pathModel;
      if (pathModel !== undefined) endpoint.pathModel = pathModel;
    } catch {
      // not a URL: no path model
    }
  }
  return endpoint;
}

/** Lower-case request header names that carry some provider's credentials (consumed by src/recorder/redact.ts). */
export const PROVIDER_AUTH_HEADERS: ReadonlySet<string> = new Set(PROVIDERS.flatMap((p) => p.authHeaders));
/** Query parameter names that carry some provider's credentials (lower case). */
export const PROVIDER_AUTH_QUERY_PARAMS: ReadonlySet<string> = new Set(
  PROVIDERS.flatMap((p) => p.authQueryParams.map((q) => q.toLowerCase())),
);

/** Placeholder credentials for a replay of a recording that used these providers (names as recorded). */
export function placeholderEnvFor(providerNames: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of providerNames) Object.assign(out, providerByName(name).placeholderEnv);
  return out;
}

/**
 * The bytes to send for one recorded stream chunk: SSE chunks are their text; AWS event-stream chunks are recorded
 * decoded (JSON of headers and payload) and framed again here.
 */
export function wireChunk(contentType: string | undefined, data: string): Uint8Array | string {
  if (!contentType || !EVENT_STREAM_CONTENT_TYPE.test(contentType)) return data;
  let message: EventMessage;
  try {
    message = JSON.parse(data) as EventMessage;
  } catch {
    return data;
  }
  if (!message || typeof message !== 'object' || typeof message.payload !== 'string') return data;
  return frameEventMessage({
    headers: message.headers ?? {},
    payload: message.payload,
    ...(message.payloadEncoding ? { payloadEncoding: message.payloadEncoding } : {}),
  });
}
