import type { LlmEndpoint } from '../hashing/providers.js';
import type { UsageForCost } from './pricing.js';

/**
 * What the recorder reads out of provider responses: model, token usage (input includes cached tokens everywhere, so
 * OpenAI and Anthropic numbers mean the same thing), finish reason, and the provider's error message.
 * Handles OpenAI chat completions / responses / embeddings and Anthropic messages, JSON and streamed.
 */
export interface LlmOutcome {
  model?: string;
  usage?: UsageForCost;
  finishReason?: string;
  error?: { message: string; code?: string };
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function openaiUsage(u: Json | undefined): UsageForCost | undefined {
  if (!u) return undefined;
  // chat/embeddings: prompt_tokens/completion_tokens; responses: input_tokens/output_tokens
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  if (input === undefined) return undefined;
  const output = num(u.completion_tokens) ?? num(u.output_tokens) ?? 0;
  const cached = num(obj(u.prompt_tokens_details)?.cached_tokens) ?? num(obj(u.input_tokens_details)?.cached_tokens);
  const total = num(u.total_tokens);
  return {
    inputTokens: input,
    outputTokens: output,
    ...(cached !== undefined ? { cachedTokens: cached } : {}),
    totalTokens: total ?? input + output,
  };
}

interface AnthropicUsageParts {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

function anthropicParts(u: Json | undefined, into: AnthropicUsageParts): void {
  if (!u) return;
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  if (input !== undefined) into.input = input;
  if (output !== undefined) into.output = output;
  if (read !== undefined) into.cacheRead = read;
  if (write !== undefined) into.cacheWrite = write;
}

function anthropicUsage(p: AnthropicUsageParts): UsageForCost | undefined {
  if (p.input === undefined && p.output === undefined) return undefined;
  const read = p.cacheRead ?? 0;
  const write = p.cacheWrite ?? 0;
  // Anthropic's input_tokens excludes cache reads and writes; ours includes them
  const input = (p.input ?? 0) + read + write;
  const output = p.output ?? 0;
  return {
    inputTokens: input,
    outputTokens: output,
    ...(p.cacheRead !== undefined ? { cachedTokens: read } : {}),
    ...(p.cacheWrite !== undefined && write > 0 ? { cacheWriteTokens: write } : {}),
    totalTokens: input + output,
  };
}

function errorOf(body: Json): LlmOutcome['error'] {
  const e = obj(body.error);
  if (!e) return undefined;
  const message = str(e.message) ?? 'error';
  const code = str(e.code) ?? str(e.type);
  return { message, ...(code !== undefined ? { code } : {}) };
}

function responsesFinish(r: Json): string | undefined {
  const status = str(r.status);
  if (status === 'incomplete') return str(obj(r.incomplete_details)?.reason) ?? 'incomplete';
  const output = Array.isArray(r.output) ? (r.output as unknown[]) : [];
  if (status === 'completed' && output.some((o) => obj(o)?.type === 'function_call')) return 'tool_calls';
  return status;
}

/** From a parsed, non-streamed response body. */
export function outcomeFromJson(endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  const b = obj(body);
  if (!b) return {};
  const out: LlmOutcome = {};
  const model = str(b.model);
  if (model !== undefined) out.model = model;
  const error = errorOf(b);
  if (error) out.error = error;
  if (endpoint.provider === 'anthropic') {
    const parts: AnthropicUsageParts = {};
    anthropicParts(obj(b.usage), parts);
    const usage = anthropicUsage(parts);
    if (usage) out.usage = usage;
    const stop = str(b.stop_reason);
    if (stop !== undefined) out.finishReason = stop;
    return out;
  }
  const usage = openaiUsage(obj(b.usage));
  if (usage) out.usage = usage;
  if (endpoint.operation === 'responses') {
    const finish = responsesFinish(b);
    if (finish !== undefined) out.finishReason = finish;
  } else if (Array.isArray(b.choices)) {
    const finish = str(obj(b.choices[0])?.finish_reason);
    if (finish !== undefined) out.finishReason = finish;
  }
  return out;
}

/** Folds SSE events into an outcome as they arrive: final-chunk usage, message_delta usage, response.completed. */
export class StreamOutcome {
  private readonly out: LlmOutcome = {};
  private readonly anthropic: AnthropicUsageParts = {};

  constructor(private readonly endpoint: LlmEndpoint) {}

  onEvent(eventName: string | undefined, data: string): void {
    if (data === '' || data === '[DONE]') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const d = obj(parsed);
    if (!d) return;
    const type = str(d.type) ?? eventName;
    if (type === 'error' || (d.error !== undefined && obj(d.error))) {
      const e = errorOf(d);
      if (e) this.out.error = e;
      return;
    }
    if (this.endpoint.provider === 'anthropic') {
      if (type === 'message_start') {
        const m = obj(d.message);
        const model = str(m?.model);
        if (model !== undefined) this.out.model = model;
        anthropicParts(obj(m?.usage), this.anthropic);
      } else if (type === 'message_delta') {
        anthropicParts(obj(d.usage), this.anthropic);
        const stop = str(obj(d.delta)?.stop_reason);
        if (stop !== undefined) this.out.finishReason = stop;
      }
      return;
    }
    if (this.endpoint.operation === 'responses') {
      const r = obj(d.response);
      if (r) {
        const model = str(r.model);
        if (model !== undefined) this.out.model = model;
        const usage = openaiUsage(obj(r.usage));
        if (usage) this.out.usage = usage;
        if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
          const finish = responsesFinish(r);
          if (finish !== undefined) this.out.finishReason = finish;
        }
      }
      return;
    }
    const model = str(d.model);
    if (model !== undefined) this.out.model = model;
    const usage = openaiUsage(obj(d.usage));
    if (usage) this.out.usage = usage;
    if (Array.isArray(d.choices)) {
      for (const c of d.choices) {
        const finish = str(obj(c)?.finish_reason);
        if (finish !== undefined) this.out.finishReason = finish;
      }
    }
  }

  result(): LlmOutcome {
    if (this.endpoint.provider === 'anthropic') {
      const usage = anthropicUsage(this.anthropic);
      if (usage) this.out.usage = usage;
    }
    return this.out;
  }
}

/** The `model` field of a request body, when it has one. */
export function requestModel(body: unknown): string {
  return str(obj(body)?.model) ?? '';
}

/** Whether the request asks for a stream (`"stream": true`). */
export function requestWantsStream(body: unknown): boolean {
  return obj(body)?.stream === true;
}
