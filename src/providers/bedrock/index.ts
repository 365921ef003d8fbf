import { arr, num, obj, str, trimmedPath, type Json } from '../json.js';
import type { LlmEndpoint, LlmOutcome, LlmProvider, LlmUsage, MatchInput, StreamParser } from '../types.js';

/**
 * AWS Bedrock Runtime: `/model/{modelId}/converse`, `/converse-stream` (AWS event-stream framing, see
 * ./event-stream.ts), `/invoke` and `/invoke-with-response-stream`, under any host (bedrock-runtime.{region}
 * .amazonaws.com, a VPC endpoint, an endpoint override). Requests are SigV4-signed: `authorization`, `x-amz-date`,
 * `x-amz-security-token` and `x-amz-content-sha256` change on every call and are never part of the request key (no
 * header is, unless configured); credentials are redacted.
 */
const PATH = /\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;

function endpointOf(url: URL, provider = 'bedrock'): LlmEndpoint | undefined {
  const m = PATH.exec(trimmedPath(url));
  if (!m?.[1] || !m[2]) return undefined;
  let model = m[1];
  try {
    model = decodeURIComponent(model);
  } catch {
    // keep the raw segment
  }
  return { provider, operation: m[2], api: 'bedrock', pathModel: model };
}

/** Converse usage: like Anthropic's, inputTokens leaves out cache reads and writes; ours includes them. */
export function bedrockUsage(u: Json | undefined): LlmUsage | undefined {
  if (!u) return undefined;
  const input = num(u.inputTokens);
  const output = num(u.outputTokens);
  if (input === undefined && output === undefined) return undefined;
  const read = num(u.cacheReadInputTokens) ?? 0;
  const write = num(u.cacheWriteInputTokens) ?? 0;
  const inputTokens = (input ?? 0) + read + write;
  return {
    inputTokens,
    outputTokens: output ?? 0,
    ...(u.cacheReadInputTokens !== undefined ? { cachedTokens: read } : {}),
    ...(write > 0 ? { cacheWriteTokens: write } : {}),
    totalTokens: num(u.totalTokens) ?? inputTokens + (output ?? 0),
  };
}

function errorOf(b: Json, status?: string): LlmOutcome['error'] {
  const message = str(b.message) ?? str(b.Message);
  if (message === undefined) return undefined;
  const code = status ?? str(b.__type) ?? str(b.code);
  return { message, ...(code !== undefined ? { code } : {}) };
}

function outcomeFromJson(endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  const b = obj(body);
  if (!b) return {};
  const out: LlmOutcome = {};
  if (endpoint.operation === 'converse') {
    const usage = bedrockUsage(obj(b.usage));
    if (usage) out.usage = usage;
    const stop = str(b.stopReason);
    if (stop !== undefined) out.finishReason = stop;
  } else {
    // InvokeModel answers in the model's own format; Anthropic's and the common usage fields are read
    const u = obj(b.usage);
    const input = num(u?.input_tokens) ?? num(u?.prompt_tokens);
    if (input !== undefined) {
      const output = num(u?.output_tokens) ?? num(u?.completion_tokens) ?? 0;
      out.usage = { inputTokens: input, outputTokens: output, totalTokens: input + output };
    }
    const stop = str(b.stop_reason) ?? str(obj(arr(b.choices)[0])?.finish_reason);
    if (stop !== undefined) out.finishReason = stop;
  }
  if (!b.output && !b.usage) {
    const error = errorOf(b);
    if (error) out.error = error;
  }
  return out;
}

/** ConverseStream events: messageStart, contentBlock*, messageStop {stopReason}, metadata {usage}; or an exception. */
class ConverseStream implements StreamParser {
  private readonly out: LlmOutcome = {};

  onEvent(eventName: string | undefined, data: string): void {
    let b: Json | undefined;
    try {
      b = obj(JSON.parse(data));
    } catch {
      return;
    }
    if (!b) return;
    if (eventName === 'messageStop') {
      const stop = str(b.stopReason);
      if (stop !== undefined) this.out.finishReason = stop;
    } else if (eventName === 'metadata') {
      const usage = bedrockUsage(obj(b.usage));
      if (usage) this.out.usage = usage;
    } else if (eventName?.endsWith('Exception')) {
      const e = errorOf(b, eventName);
      if (e) this.out.error = e;
    } else if (eventName === 'chunk') {
      // InvokeModelWithResponseStream: {bytes: base64 of the model's own event}
      const bytes = str(b.bytes);
      if (bytes === undefined) return;
      const inner = obj(safeJson(Buffer.from(bytes, 'base64').toString('utf8')));
      const metrics = obj(inner?.['amazon-bedrock-invocationMetrics']);
      const input = num(metrics?.inputTokenCount);
      if (input !== undefined)
        this.out.usage = {
          inputTokens: input,
          outputTokens: num(metrics?.outputTokenCount) ?? 0,
          totalTokens: input + (num(metrics?.outputTokenCount) ?? 0),
        };
      const stop = str(obj(inner?.delta)?.stop_reason);
      if (stop !== undefined) this.out.finishReason = stop;
    }
  }

  result(): LlmOutcome {
    return this.out;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export const bedrock: LlmProvider = {
  api: 'bedrock',
  match({ method, url, body }: MatchInput): LlmEndpoint | undefined {
    if (method !== 'POST') return undefined;
    const endpoint = endpointOf(url);
    if (!endpoint) return undefined;
    // Converse bodies carry messages (or a prompt); InvokeModel bodies are the model's own, accepted on AWS hosts
    if (endpoint.operation.startsWith('converse')) {
      const b = obj(body);
      return b && (Array.isArray(b.messages) || b.promptVariables !== undefined) ? endpoint : undefined;
    }
    return url.hostname.endsWith('.amazonaws.com') ? endpoint : undefined;
  },
  matchPath: (url, provider) => endpointOf(url, provider),
  volatileBodyFields: ['requestMetadata'],
  authHeaders: ['authorization', 'x-amz-security-token', 'x-amz-credential'],
  authQueryParams: ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token'],
  requestModel: (endpoint) => endpoint.pathModel ?? '',
  wantsStream: (endpoint) => endpoint.operation.endsWith('-stream'),
  outcomeFromJson,
  streamParser: () => new ConverseStream(),
  placeholderEnv: {
    AWS_ACCESS_KEY_ID: 'AKIDRETRACEREPLAY000',
    AWS_SECRET_ACCESS_KEY: 'retrace-replay-placeholder-secret',
    AWS_REGION: 'us-east-1',
  },
};
