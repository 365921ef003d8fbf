import type { PayloadInputOf } from '../events/payloads.js';
import { recordedEndpoint, type LlmEndpoint } from './providers.js';
import { normalizeRequest, requestHash, type NormalizationOptions, type NormalizedRequest } from './request-key.js';

/**
 * The request key of a request as it was STORED (redacted): what the replay cache is keyed by, and what the recorder
 * writes as requestHash when a run's memory or the user's hook redacted more than the key's own redaction saw.
 * One function for both, so the stored hash and the cache agree.
 */

type LlmRequestPayload = Pick<
  PayloadInputOf<'llm_request'>,
  'provider' | 'operation' | 'method' | 'url' | 'headers' | 'body'
>;
type HttpRequestPayload = Pick<PayloadInputOf<'http_request'>, 'method' | 'url' | 'headers' | 'body' | 'bodyEncoding'>;

export type StoredRequest =
  | { type: 'llm_request'; payload: LlmRequestPayload }
  | { type: 'http_request'; payload: HttpRequestPayload };

/** the provider-aware endpoint of a recorded request (API family, and the model when the URL path names it) */
function llmEndpoint(p: { provider: string; operation: string; url: string }): LlmEndpoint {
  return recordedEndpoint(p);
}

function llmBodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function httpBodyText(body: string | undefined, encoding: 'utf8' | 'base64' | undefined): string | undefined {
  if (body === undefined || encoding !== 'base64') return body;
  return Buffer.from(body, 'base64').toString('utf8');
}

export function normalizeStoredRequest(e: StoredRequest, options: NormalizationOptions = {}): NormalizedRequest {
  const p = e.payload;
  const body =
    e.type === 'llm_request' ? llmBodyText(e.payload.body) : httpBodyText(e.payload.body, e.payload.bodyEncoding);
  return normalizeRequest(
    { method: p.method, url: p.url, headers: p.headers, ...(body !== undefined ? { body } : {}) },
    e.type === 'llm_request' ? llmEndpoint(e.payload) : undefined,
    options,
  );
}

export function storedRequestHash(e: StoredRequest, options: NormalizationOptions = {}): string {
  return requestHash(normalizeStoredRequest(e, options));
}
