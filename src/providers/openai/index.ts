import { obj, str, trimmedPath } from '../json.js';
import type { LlmEndpoint, LlmProvider, MatchInput } from '../types.js';
import { compatibleProviderName } from './hosts.js';
import { OpenAiStream, openaiOutcome } from './usage.js';

/**
 * OpenAI and every server that speaks its API (OpenAI-compatible gateways, vLLM, Ollama, OpenRouter, Groq, …):
 * chat completions, responses, embeddings and legacy completions, recognised by path suffix and body shape under any
 * host and prefix (`/v1/…`, `/api/v1/…`, `/openai/v1/…`).
 */
const OPERATIONS: ReadonlyArray<[suffix: string, operation: string]> = [
  ['/chat/completions', 'chat.completions'],
  ['/responses', 'responses'],
  ['/embeddings', 'embeddings'],
  ['/completions', 'completions'],
];

export function openaiOperation(path: string): string | undefined {
  for (const [suffix, op] of OPERATIONS) if (path.endsWith(suffix)) return op;
  return undefined;
}

/** Whether a body has the shape of the operation's request (so `/completions` of some other API is not taken). */
export function openaiBodyFits(operation: string, body: unknown, modelRequired = true): boolean {
  const b = obj(body);
  if (!b) return false;
  if (modelRequired && str(b.model) === undefined) return false;
  switch (operation) {
    case 'chat.completions':
      return Array.isArray(b.messages);
    case 'responses':
      return b.input !== undefined || b.prompt !== undefined || b.previous_response_id !== undefined;
    case 'embeddings':
      return b.input !== undefined;
    case 'completions':
      return b.prompt !== undefined;
    default:
      return false;
  }
}

export const openai: LlmProvider = {
  api: 'openai',
  match({ method, url, body }: MatchInput): LlmEndpoint | undefined {
    if (method !== 'POST') return undefined;
    const operation = openaiOperation(trimmedPath(url));
    if (!operation) return undefined;
    const official = url.hostname === 'api.openai.com';
    if (!official && !openaiBodyFits(operation, body)) return undefined;
    return { provider: compatibleProviderName(url), operation, api: 'openai' };
  },
  matchPath(url, provider) {
    const operation = openaiOperation(trimmedPath(url));
    return operation ? { provider, operation, api: 'openai' } : undefined;
  },
  volatileBodyFields: ['user', 'metadata', 'prompt_cache_key', 'safety_identifier', 'service_tier', 'store'],
  authHeaders: ['authorization', 'openai-api-key'],
  authQueryParams: [],
  requestModel: (endpoint, body) => str(obj(body)?.model) ?? endpoint.pathModel ?? '',
  wantsStream: (_endpoint, _url, body) => obj(body)?.stream === true,
  outcomeFromJson: openaiOutcome,
  streamParser: (endpoint) => new OpenAiStream(endpoint),
  placeholderEnv: { OPENAI_API_KEY: 'sk-retrace-replay-placeholder' },
};
