import { arr, errorOf, num, obj, str, trimmedPath, type Json } from '../json.js';
import type { LlmEndpoint, LlmOutcome, LlmProvider, LlmUsage, MatchInput, StreamParser } from '../types.js';

/**
 * Google Gemini (Generative Language API and Vertex AI): `…/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:countTokens`, `:embedContent`, `:batchEmbedContents`, under any host and prefix
 * (`/v1beta/models/…`, `/v1/projects/{p}/locations/{l}/publishers/google/models/…`). The model is in the path; the
 * key is in `x-goog-api-key` or `?key=`.
 */
const METHOD = /\/(?:models|tunedModels)\/([^/:]+):([A-Za-z]+)$/;
const OPERATIONS = new Set([
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
]);

function endpointOf(url: URL, provider?: string): LlmEndpoint | undefined {
  const m = METHOD.exec(trimmedPath(url).replace(/%3A/gi, ':'));
  if (!m?.[1] || !m[2] || !OPERATIONS.has(m[2])) return undefined;
  let model = m[1];
  try {
    model = decodeURIComponent(model);
  } catch {
    // keep the raw segment
  }
  const vertex = url.hostname.endsWith('aiplatform.googleapis.com') || url.pathname.includes('/publishers/google/');
  return { provider: provider ?? (vertex ? 'vertex-ai' : 'gemini'), operation: m[2], api: 'gemini', pathModel: model };
}

/** Gemini's usageMetadata: thinking tokens are billed as output, so they count in outputTokens as OpenAI's do. */
export function geminiUsage(u: Json | undefined): LlmUsage | undefined {
  if (!u) return undefined;
  const input = num(u.promptTokenCount);
  if (input === undefined) return undefined;
  const candidates = num(u.candidatesTokenCount) ?? 0;
  const thoughts = num(u.thoughtsTokenCount) ?? 0;
  const tools = num(u.toolUsePromptTokenCount) ?? 0;
  const cached = num(u.cachedContentTokenCount);
  const output = candidates + thoughts;
  return {
    inputTokens: input + tools,
    outputTokens: output,
    ...(cached !== undefined ? { cachedTokens: cached } : {}),
    ...(thoughts > 0 ? { reasoningTokens: thoughts } : {}),
    totalTokens: num(u.totalTokenCount) ?? input + tools + output,
  };
}

function fold(out: LlmOutcome, b: Json): void {
  const model = str(b.modelVersion) ?? str(b.model);
  if (model !== undefined) out.model = model;
  const error = errorOf(b);
  if (error) out.error = error;
  const usage = geminiUsage(obj(b.usageMetadata));
  if (usage) out.usage = usage;
  for (const c of arr(b.candidates)) {
    const finish = str(obj(c)?.finishReason);
    if (finish !== undefined) out.finishReason = finish;
  }
  const blocked = str(obj(b.promptFeedback)?.blockReason);
  if (blocked !== undefined) out.finishReason = blocked;
}

function outcomeFromJson(_endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  const out: LlmOutcome = {};
  // streamGenerateContent without alt=sse answers a JSON array of the chunks
  const items = Array.isArray(body) ? body : [body];
  for (const item of items) {
    const b = obj(item);
    if (b) fold(out, b);
  }
  return out;
}

class GeminiStream implements StreamParser {
  private readonly out: LlmOutcome = {};

  onEvent(_eventName: string | undefined, data: string): void {
    let b: Json | undefined;
    try {
      b = obj(JSON.parse(data));
    } catch {
      return;
    }
    if (b) fold(this.out, b);
  }

  result(): LlmOutcome {
    return this.out;
  }
}

export const gemini: LlmProvider = {
  api: 'gemini',
  match({ method, url, body }: MatchInput): LlmEndpoint | undefined {
    if (method !== 'POST') return undefined;
    const endpoint = endpointOf(url);
    if (!endpoint) return undefined;
    const b = obj(body);
    const fits =
      b !== undefined &&
      (b.contents !== undefined || b.content !== undefined || b.requests !== undefined || b.generateContentRequest);
    return fits ? endpoint : undefined;
  },
  matchPath: (url, provider) => endpointOf(url, provider),
  volatileBodyFields: ['labels'],
  authHeaders: ['x-goog-api-key', 'authorization'],
  authQueryParams: ['key', 'access_token'],
  requestModel: (endpoint) => endpoint.pathModel ?? '',
  wantsStream: (endpoint) => endpoint.operation === 'streamGenerateContent',
  outcomeFromJson,
  streamParser: () => new GeminiStream(),
  // @google/genai reads GEMINI_API_KEY or GOOGLE_API_KEY; the Vercel AI SDK's @ai-sdk/google reads its own variable
  placeholderEnv: {
    GEMINI_API_KEY: 'retrace-replay-placeholder-gemini-key',
    GOOGLE_API_KEY: 'retrace-replay-placeholder-gemini-key',
    GOOGLE_GENERATIVE_AI_API_KEY: 'retrace-replay-placeholder-gemini-key',
  },
};
