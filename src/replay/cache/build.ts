import type { StoredEvent, StoredEventOf } from '../../events/envelope.js';
import { OccurrenceCounter, requestHash, type NormalizationOptions } from '../../hashing/request-key.js';
import { normalizeStoredRequest } from '../../hashing/stored-request.js';
import type { ProviderBaseUrl } from '../../hashing/providers.js';
import type { NondeterminismSource } from '../../recorder/hooks.js';
import type { RecordedExchange, RecordedHttpResponse, RecordedToolCall, ReplayCacheData } from './types.js';

export interface BuildCacheOptions {
  /**
   * Normalization for request identity (the sandbox's recorder must be created with the same options). Every recorded
   * request is re-keyed from what the store holds — hash and occurrence recomputed from the stored, redacted request —
   * so the key matches the one the replayed agent's request gets after the same redaction (src/hashing/request-key.ts),
   * whatever way the recording computed its own (traces recorded before the key was taken after redaction included).
   */
  normalization?: NormalizationOptions;
}

function llmBodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function responseOfLlm(e: StoredEventOf<'llm_response'>): RecordedHttpResponse {
  const p = e.payload;
  const out: RecordedHttpResponse = { status: p.status, headers: { ...(p.headers ?? {}) }, bodyEncoding: 'utf8' };
  if (p.trailers) out.trailers = { ...p.trailers };
  if (p.chunks) out.chunks = p.chunks;
  else {
    const text = llmBodyText(p.body);
    if (text !== undefined) out.body = text;
  }
  if (p.error) out.error = p.error;
  return withTiming(out, p);
}

/** the recorded timing of a response, for the replay's completion order and virtual clock */
function withTiming(
  out: RecordedHttpResponse,
  p: { startMs?: number; headersMs?: number; latencyMs: number; interrupted?: RecordedHttpResponse['interrupted'] },
): RecordedHttpResponse {
  out.latencyMs = p.latencyMs;
  if (p.startMs !== undefined) out.startMs = p.startMs;
  if (p.headersMs !== undefined) out.headersMs = p.headersMs;
  if (p.interrupted) out.interrupted = p.interrupted;
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
  if (p.trailers) out.trailers = { ...p.trailers };
  if (p.chunks) out.chunks = p.chunks;
  else if (p.body !== undefined) out.body = p.body;
  if (p.error) out.error = p.error;
  return withTiming(out, p);
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
  const counter = new OccurrenceCounter();

  for (const e of events) {
    switch (e.type) {
      case 'llm_request': {
        const p = e.payload;
        const normalized = normalizeStoredRequest(e, options.normalization);
        const hash = requestHash(normalized);
        const x: RecordedExchange = {
          index: exchanges.length,
          seq: e.seq,
          kind: 'llm',
          requestHash: hash,
          occurrence: counter.next(hash),
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
        const normalized = normalizeStoredRequest(e, options.normalization);
        const hash = requestHash(normalized);
        const x: RecordedExchange = {
          index: exchanges.length,
          seq: e.seq,
          kind: 'http',
          requestHash: hash,
          occurrence: counter.next(hash),
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
        t.latencyMs = e.payload.latencyMs;
        if (e.payload.startMs !== undefined) t.startMs = e.payload.startMs;
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

/**
 * The LLM endpoints the recording used (each request's URL without its query), so the sandbox's recorder (and the msw
 * handlers) take the same requests for LLM calls of the same provider even where recognition by body shape alone would
 * not.
 */
export function providersOf(events: readonly StoredEvent[]): ProviderBaseUrl[] {
  const out = new Map<string, ProviderBaseUrl>();
  for (const e of events) {
    if (e.type !== 'llm_request') continue;
    let url: URL;
    try {
      url = new URL(e.payload.url);
    } catch {
      continue;
    }
    const base = `${url.origin}${url.pathname}`;
    out.set(`${e.payload.provider} ${base}`, { baseUrl: base, provider: e.payload.provider });
  }
  return [...out.values()];
}
