import type { StoredEvent, StoredEventOf } from '../../events/envelope.js';
import type { LlmEndpoint } from '../../hashing/providers.js';
import {
  normalizeRequest,
  OccurrenceCounter,
  requestHash,
  type NormalizationOptions,
} from '../../hashing/request-key.js';
import type { NondeterminismSource } from '../../recorder/hooks.js';
import type { RecordedExchange, RecordedHttpResponse, RecordedToolCall, ReplayCacheData } from './types.js';

export interface BuildCacheOptions {
  /**
   * Normalization for request identity. When given, every recorded request is re-keyed with it (hash and occurrence
   * recomputed from the stored request), so the sandbox's recorder must be created with the same options. When absent,
   * the hash and occurrence the recorder stored are used as they are.
   */
  normalization?: NormalizationOptions;
}

function llmBodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function llmEndpoint(p: { provider: string; operation: string }): LlmEndpoint {
  const provider = p.provider === 'anthropic' ? 'anthropic' : p.provider === 'openai' ? 'openai' : 'openai-compatible';
  return { provider, operation: p.operation };
}

function responseOfLlm(e: StoredEventOf<'llm_response'>): RecordedHttpResponse {
  const p = e.payload;
  const out: RecordedHttpResponse = { status: p.status, headers: { ...(p.headers ?? {}) }, bodyEncoding: 'utf8' };
  if (p.chunks) out.chunks = p.chunks;
  else {
    const text = llmBodyText(p.body);
    if (text !== undefined) out.body = text;
  }
  if (p.error) out.error = p.error;
  return out;
}

function responseOfHttp(e: StoredEventOf<'http_response'>): RecordedHttpResponse {
  const p = e.payload;
  const out: RecordedHttpResponse = {
    status: p.status,
    headers: { ...(p.headers ?? {}) },
    bodyEncoding: p.bodyEncoding,
  };
  if (p.statusText !== undefined) out.statusText = p.statusText;
  if (p.chunks) out.chunks = p.chunks;
  else if (p.body !== undefined) out.body = p.body;
  if (p.error) out.error = p.error;
  return out;
}

function decodeBody(body: string | undefined, encoding: 'utf8' | 'base64'): string | undefined {
  if (body === undefined || encoding === 'utf8') return body;
  return Buffer.from(body, 'base64').toString('utf8');
}

/**
 * The nondeterminism events whose values the agent itself observed. Values observed *inside* a tool function are
 * left out: in replay a recorded tool is answered from the cache and its body does not run, so serving its values to
 * the agent would shift every later value. An event is inside a tool when its parentEventId is a tool_call, or —
 * since the recorder flushes pending values before each event — when it lies between a tool_call and its
 * tool_response. (Agent code running concurrently with a tool at that moment would be misattributed; tagging the
 * values with the tool_call in the recorder removes that ambiguity.)
 */
export function agentValueEvents(events: readonly StoredEvent[]): Array<StoredEventOf<'nondeterminism'>> {
  const out: Array<StoredEventOf<'nondeterminism'>> = [];
  const toolCalls = new Set<string>();
  const open = new Set<string>();
  for (const e of events) {
    if (e.type === 'tool_call') {
      toolCalls.add(e.eventId);
      open.add(e.eventId);
    } else if (e.type === 'tool_response') {
      if (e.parentEventId) open.delete(e.parentEventId);
    } else if (e.type === 'nondeterminism') {
      // environment reads are served by name (src/replay/env.ts), not as a sequence
      if (e.payload.source === 'env') continue;
      if (e.parentEventId && toolCalls.has(e.parentEventId)) continue;
      if (open.size > 0) continue;
      out.push(e);
    }
  }
  return out;
}

/**
 * Builds the LLM/HTTP cache (requestHash + occurrence), the tool cache (tool + argsHash + occurrence) and the
 * nondeterminism value queues (per source, in recorded order) from a whole stored trace.
 */
export function buildReplayCache(events: readonly StoredEvent[], options: BuildCacheOptions = {}): ReplayCacheData {
  const exchanges: RecordedExchange[] = [];
  const tools: RecordedToolCall[] = [];
  const values: ReplayCacheData['values'] = {};
  const exchangeByEventId = new Map<string, RecordedExchange>();
  const toolByEventId = new Map<string, RecordedToolCall>();
  const rekey = options.normalization !== undefined;
  const counter = new OccurrenceCounter();

  for (const e of events) {
    switch (e.type) {
      case 'llm_request': {
        const p = e.payload;
        const body = llmBodyText(p.body);
        const normalized = normalizeRequest(
          { method: p.method, url: p.url, headers: p.headers, ...(body !== undefined ? { body } : {}) },
          llmEndpoint(p),
          options.normalization,
        );
        const hash = rekey ? requestHash(normalized) : p.requestHash;
        const x: RecordedExchange = {
          index: exchanges.length,
          seq: e.seq,
          kind: 'llm',
          requestHash: hash,
          occurrence: rekey ? counter.next(hash) : p.occurrence,
          method: p.method,
          url: p.url,
          normalized,
          stream: p.stream,
        };
        exchanges.push(x);
        exchangeByEventId.set(e.eventId, x);
        break;
      }
      case 'http_request': {
        const p = e.payload;
        const body = decodeBody(p.body, p.bodyEncoding);
        const normalized = normalizeRequest(
          { method: p.method, url: p.url, headers: p.headers, ...(body !== undefined ? { body } : {}) },
          undefined,
          options.normalization,
        );
        const hash = rekey ? requestHash(normalized) : p.requestHash;
        const x: RecordedExchange = {
          index: exchanges.length,
          seq: e.seq,
          kind: 'http',
          requestHash: hash,
          occurrence: rekey ? counter.next(hash) : p.occurrence,
          method: p.method,
          url: p.url,
          normalized,
          stream: false,
        };
        exchanges.push(x);
        exchangeByEventId.set(e.eventId, x);
        break;
      }
      case 'llm_response':
      case 'http_response': {
        const x = e.parentEventId ? exchangeByEventId.get(e.parentEventId) : undefined;
        if (!x) break;
        x.responseSeq = e.seq;
        x.response = e.type === 'llm_response' ? responseOfLlm(e) : responseOfHttp(e);
        if (x.response.chunks) x.stream = true;
        break;
      }
      case 'tool_call': {
        const p = e.payload;
        const t: RecordedToolCall = {
          index: tools.length,
          seq: e.seq,
          tool: p.tool,
          argsHash: p.argsHash,
          occurrence: p.occurrence,
          args: p.args,
          pure: p.pure ?? false,
        };
        tools.push(t);
        toolByEventId.set(e.eventId, t);
        break;
      }
      case 'tool_response': {
        const t = e.parentEventId ? toolByEventId.get(e.parentEventId) : undefined;
        if (!t) break;
        t.responseSeq = e.seq;
        t.answer = e.payload.error ? { error: e.payload.error } : { result: e.payload.result };
        break;
      }
      default:
        break;
    }
  }
  for (const e of agentValueEvents(events)) {
    const source: NondeterminismSource = e.payload.source;
    (values[source] ??= []).push(...e.payload.values);
  }
  return { exchanges, tools, values };
}
