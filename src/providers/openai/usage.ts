import { errorOf, obj, num, str, type Json } from '../json.js';
import type { LlmOutcome, LlmUsage, StreamParser, LlmEndpoint } from '../types.js';

/** OpenAI usage objects: chat/embeddings `prompt_tokens`/`completion_tokens`, responses `input_tokens`/`output_tokens`. */
export function openaiUsage(u: Json | undefined): LlmUsage | undefined {
  if (!u) return undefined;
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  if (input === undefined) return undefined;
  const output = num(u.completion_tokens) ?? num(u.output_tokens) ?? 0;
  const cached = num(obj(u.prompt_tokens_details)?.cached_tokens) ?? num(obj(u.input_tokens_details)?.cached_tokens);
  const reasoning =
    num(obj(u.completion_tokens_details)?.reasoning_tokens) ?? num(obj(u.output_tokens_details)?.reasoning_tokens);
  const total = num(u.total_tokens);
  return {
    inputTokens: input,
    outputTokens: output,
    ...(cached !== undefined ? { cachedTokens: cached } : {}),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
    totalTokens: total ?? input + output,
  };
}

function responsesFinish(r: Json): string | undefined {
  const status = str(r.status);
  if (status === 'incomplete') return str(obj(r.incomplete_details)?.reason) ?? 'incomplete';
  const output = Array.isArray(r.output) ? (r.output as unknown[]) : [];
  if (status === 'completed' && output.some((o) => obj(o)?.type === 'function_call')) return 'tool_calls';
  return status;
}

export function openaiOutcome(endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  const b = obj(body);
  if (!b) return {};
  const out: LlmOutcome = {};
  const model = str(b.model);
  if (model !== undefined) out.model = model;
  const error = errorOf(b);
  if (error) out.error = error;
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

/** Chat completion chunks (usage in the final chunk with stream_options.include_usage) and responses events. */
export class OpenAiStream implements StreamParser {
  private readonly out: LlmOutcome = {};

  constructor(private readonly endpoint: LlmEndpoint) {}

  onEvent(eventName: string | undefined, data: string): void {
    if (data === '' || data === '[DONE]') return;
    let d: Json | undefined;
    try {
      d = obj(JSON.parse(data));
    } catch {
      return;
    }
    if (!d) return;
    const type = str(d.type) ?? eventName;
    if (type === 'error' || obj(d.error)) {
      const e = errorOf(d);
      if (e) this.out.error = e;
      return;
    }
    if (this.endpoint.operation === 'responses') {
      const r = obj(d.response);
      if (!r) return;
      const model = str(r.model);
      if (model !== undefined) this.out.model = model;
      const usage = openaiUsage(obj(r.usage));
      if (usage) this.out.usage = usage;
      if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
        const finish = responsesFinish(r);
        if (finish !== undefined) this.out.finishReason = finish;
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
    return this.out;
  }
}
