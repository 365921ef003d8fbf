import { errorOf, num, obj, str, type Json } from '../json.js';
import type { LlmEndpoint, LlmOutcome, LlmProvider, LlmUsage, MatchInput, StreamParser } from '../types.js';

/** Anthropic messages (`…/v1/messages` under any host: the API itself, gateways, proxies), JSON and SSE. */

interface UsageParts {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

function collect(u: Json | undefined, into: UsageParts): void {
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

function usageOf(p: UsageParts): LlmUsage | undefined {
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

function outcomeFromJson(_endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  const b = obj(body);
  if (!b) return {};
  const out: LlmOutcome = {};
  const model = str(b.model);
  if (model !== undefined) out.model = model;
  const error = errorOf(b);
  if (error) out.error = error;
  const parts: UsageParts = {};
  collect(obj(b.usage), parts);
  const usage = usageOf(parts);
  if (usage) out.usage = usage;
  const stop = str(b.stop_reason);
  if (stop !== undefined) out.finishReason = stop;
  return out;
}

class AnthropicStream implements StreamParser {
  private readonly out: LlmOutcome = {};
  private readonly parts: UsageParts = {};

  onEvent(eventName: string | undefined, data: string): void {
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
    } else if (type === 'message_start') {
      const m = obj(d.message);
      const model = str(m?.model);
      if (model !== undefined) this.out.model = model;
      collect(obj(m?.usage), this.parts);
    } else if (type === 'message_delta') {
      collect(obj(d.usage), this.parts);
      const stop = str(obj(d.delta)?.stop_reason);
      if (stop !== undefined) this.out.finishReason = stop;
    }
  }

  result(): LlmOutcome {
    const usage = usageOf(this.parts);
    if (usage) this.out.usage = usage;
    return this.out;
  }
}

function isMessages(path: string): boolean {
  return path.endsWith('/messages');
}

export const anthropic: LlmProvider = {
  api: 'anthropic',
  match({ method, url, headers, body }: MatchInput): LlmEndpoint | undefined {
    if (method !== 'POST' || !isMessages(url.pathname.replace(/\/$/, ''))) return undefined;
    const b = obj(body);
    const official = url.hostname === 'api.anthropic.com' || headers['anthropic-version'] !== undefined;
    // the body shape of a messages request (OpenAI's /threads/{id}/messages has no model and no max_tokens)
    if (!official && !(b && str(b.model) !== undefined && Array.isArray(b.messages) && b.max_tokens !== undefined))
      return undefined;
    return { provider: 'anthropic', operation: 'messages', api: 'anthropic' };
  },
  matchPath(url, provider) {
    return isMessages(url.pathname.replace(/\/$/, ''))
      ? { provider, operation: 'messages', api: 'anthropic' }
      : undefined;
  },
  volatileBodyFields: ['metadata'],
  authHeaders: ['x-api-key', 'authorization', 'anthropic-api-key', 'x-anthropic-api-key'],
  authQueryParams: [],
  requestModel: (_endpoint, body) => str(obj(body)?.model) ?? '',
  wantsStream: (_endpoint, _url, body) => obj(body)?.stream === true,
  outcomeFromJson,
  streamParser: () => new AnthropicStream(),
  placeholderEnv: { ANTHROPIC_API_KEY: 'sk-ant-retrace-replay-placeholder' },
};
