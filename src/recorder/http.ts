import { syncBuiltinESMExports } from 'node:module';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BatchInterceptor, getRawRequest } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import type { ErrorInfo, Interruption, PayloadInputOf, StreamChunk } from '../events/payloads.js';
import {
  detectLlmEndpoint,
  normalizeRequest,
  parseBody,
  requestHash,
  type LlmEndpoint,
  type NormalizedRequest,
  type ParsedBody,
} from '../hashing/index.js';
import { currentRun, currentToolCall, inNetwork, internal } from './context.js';
import { installDispatcherCapture, watchUncapturedRequests } from './dispatcher.js';
import { noteEnvBehindUrl } from './env-capture.js';
import type { InterceptedRequest } from './hooks.js';
import { outcomeFromJson, requestModel, requestWantsStream, StreamOutcome, type LlmOutcome } from './llm.js';
import { originalPerformanceNow } from './originals.js';
import type { PendingExchange, Reservation, RunState } from './run.js';
import { errorInfo } from './serialize.js';
import { acquireShared } from './shared.js';
import { SseSplitter } from './sse.js';
import { EVENT_STREAM_CONTENT_TYPE, EventStreamSplitter } from '../providers/bedrock/event-stream.js';

/**
 * HTTP capture: ONE process-global interception layer, installed once and ref-counted, dispatching each request to the
 * run active in the caller's async context: global fetch through a thin wrapper of our own, node:http/https through
 * @mswjs/interceptors' ClientRequestInterceptor (including ESM named imports, thanks to syncBuiltinESMExports). Both
 * feed the same recording code (beginExchange / Exchange) and ask the same ReplayHooks. Requests outside any run pass
 * through untouched and unrecorded.
 *
 * Record mode: the request is recorded, then goes to the network; the response is recorded from a clone read in a
 * detached task (the 'response' listener is awaited before fetch resolves, so awaiting the read there would buffer
 * streams). SSE is recorded event by event with its timing while the caller consumes its own branch.
 * Replay mode (ReplayHooks installed): `hooks.respondHttp` answers, through the same listener, and the answer is
 * recorded the same way, so original and replay traces compare event by event.
 */
const byRequestId = new Map<string, Exchange>();

export { inNetworkLayer } from './context.js';

/** Response headers that describe the wire encoding; the body is recorded decoded, so they are not kept. */
const WIRE_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

const TEXTUAL =
  /^(text\/|application\/(json|[a-z0-9.+-]*\+json|xml|[a-z0-9.+-]*\+xml|javascript|x-www-form-urlencoded|x-ndjson|graphql))/i;

function ms(from: number, to = originalPerformanceNow()): number {
  return Math.max(0, Math.round((to - from) * 1000) / 1000);
}

function headersOf(headers: Headers, dropWire: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (dropWire && WIRE_HEADERS.has(name)) return;
    out[name] = value;
  });
  return out;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function encodeBody(bytes: Uint8Array, contentType: string): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  if (bytes.length === 0) return { body: '', bodyEncoding: 'utf8' };
  if (TEXTUAL.test(contentType)) return { body: Buffer.from(bytes).toString('utf8'), bodyEncoding: 'utf8' };
  try {
    return { body: utf8Strict.decode(bytes), bodyEncoding: 'utf8' };
  } catch {
    return { body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' };
  }
}

function decoded(body: ReadableStream<Uint8Array>, encoding: string): ReadableStream<Uint8Array> {
  const enc = encoding.trim().toLowerCase();
  const inflate =
    enc === 'gzip' || enc === 'x-gzip'
      ? createGunzip()
      : enc === 'deflate'
        ? createInflate()
        : enc === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!inflate) return body;
  const node = Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>).pipe(inflate);
  return Readable.toWeb(node) as unknown as ReadableStream<Uint8Array>;
}

interface ExchangeInit {
  run: RunState;
  transport: 'fetch' | 'http' | 'http2';
  method: string;
  url: string;
  endpoint: LlmEndpoint | undefined;
  /** the request body as recorded (parsed JSON, or the text), computed on first use */
  requestBody: () => unknown;
  requestEventId: string;
  startedAt: number;
  /** the caller's AbortSignal: tells an abort by the agent from a cut by the server */
  signal?: AbortSignal | undefined;
}

/** One request/response pair of one run, from the request event to the response event. */
class Exchange implements PendingExchange {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private settled = false;
  private responseSeen = false;
  private readonly chunks: StreamChunk[] = [];
  private status = 0;
  private responseHeaders: Record<string, string> | undefined;
  /** headers the server sent after the body (node:http2 'trailers'), recorded beside the headers */
  private trailers: Record<string, string> | undefined;
  /** the response's position in the trace, taken when its headers arrived */
  private slot: Reservation | undefined;
  private headersAt: number | undefined;

  constructor(private readonly init: ExchangeInit) {
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    init.run.pending.add(this);
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.init.run.pending.delete(this);
    this.resolveDone();
    return true;
  }

  /** Trailing headers of the response (HTTP/2); they arrive before the body ends, so before the response is emitted. */
  onTrailers(trailers: Record<string, string>): void {
    if (this.settled) return;
    this.trailers = { ...this.trailers, ...trailers };
  }

  /** The request failed before any response (connection refused, DNS, abort, a replay answer that throws). */
  failNetwork(err: unknown): void {
    if (this.responseSeen || this.settled) return;
    this.settle();
    this.emitResponse({ status: 0, error: errorInfo(err), interrupted: this.interruption() });
  }

  /** an error ended the exchange: the agent's own AbortSignal, or (anything else mid-body) the server */
  private interruption(): Interruption | undefined {
    if (this.init.signal?.aborted) return { by: 'client', afterChunks: this.chunks.length };
    return this.responseSeen ? { by: 'server', afterChunks: this.chunks.length } : undefined;
  }

  abandon(reason: string): void {
    if (this.settled) return;
    this.settle();
    this.emitResponse({
      status: this.status,
      ...(this.responseHeaders ? { headers: this.responseHeaders } : {}),
      ...(this.chunks.length > 0 ? { chunks: this.chunks } : {}),
      error: { name: 'IncompleteResponse', message: reason },
    });
  }

  /**
   * A replayed response whose whole body the replay hooks handed over (null: none): recorded from that text right
   * away, exactly as consume() would record it from a clone, without teeing and reading the body stream.
   */
  onKnownResponse(response: Response, body: string | Uint8Array | null): void {
    if (this.settled || this.responseSeen) return;
    const contentType = response.headers.get('content-type') ?? '';
    if (/text\/event-stream/i.test(contentType) || EVENT_STREAM_CONTENT_TYPE.test(contentType)) {
      this.onResponse(response.clone());
      return;
    }
    this.responseSeen = true;
    this.slot = this.init.run.reserve();
    this.headersAt = originalPerformanceNow();
    this.status = response.status;
    this.responseHeaders = headersOf(response.headers, true);
    if (!this.settle()) return;
    this.emitResponse({
      status: response.status,
      statusText: response.statusText,
      headers: this.responseHeaders,
      ...(body !== null
        ? { body: () => encodeBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, contentType) }
        : {}),
      latencyMs: ms(this.init.startedAt),
    });
  }

  /** Called synchronously from the 'response' listener; reads the clone in a detached task. */
  onResponse(response: Response): void {
    if (this.settled || this.responseSeen) return;
    this.responseSeen = true;
    this.slot = this.init.run.reserve();
    const headersAt = originalPerformanceNow();
    this.headersAt = headersAt;
    this.status = response.status;
    this.responseHeaders = headersOf(response.headers, true);
    void internal(() => this.consume(response, headersAt));
  }

  private async consume(response: Response, headersAt: number): Promise<void> {
    const contentType = response.headers.get('content-type') ?? '';
    const isSse = /text\/event-stream/i.test(contentType);
    // AWS event-stream (Bedrock ConverseStream): recorded message by message, decoded, like SSE events
    const isEventStream = !isSse && EVENT_STREAM_CONTENT_TYPE.test(contentType);
    const endpoint = this.init.endpoint;
    let body = response.body;
    const encoding = response.headers.get('content-encoding');
    // fetch hands out decoded bodies; node:http and node:http2 give the wire bytes
    if (body && encoding && this.init.transport !== 'fetch') body = decoded(body, encoding);
    let error: ErrorInfo | undefined;
    let bytes: Uint8Array | undefined;
    const stream = (isSse || isEventStream) && endpoint ? new StreamOutcome(endpoint) : undefined;
    try {
      if (body && isEventStream) {
        const splitter = new EventStreamSplitter();
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const t = ms(headersAt);
          for (const m of splitter.push(value)) {
            this.chunks.push({ t, data: JSON.stringify(m) });
            const type = m.headers[':event-type'] ?? m.headers[':exception-type'];
            stream?.onEvent(typeof type === 'string' ? type : undefined, m.payload);
          }
        }
      } else if (body && isSse) {
        const splitter = new SseSplitter();
        const decoder = new TextDecoder();
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          const t = ms(headersAt);
          const frames = done ? [] : splitter.push(decoder.decode(value, { stream: true }));
          if (done) {
            const tail = decoder.decode();
            if (tail) frames.push(...splitter.push(tail));
            const last = splitter.flush();
            if (last) frames.push(last);
          }
          for (const f of frames) {
            this.chunks.push({ t, data: f.raw });
            stream?.onEvent(f.event, f.data);
          }
          if (done) break;
        }
      } else if (body && body === response.body) {
        // the whole body in one call: undici reads it without a promise per chunk (~40 µs less per call than the loop)
        bytes = new Uint8Array(await response.arrayBuffer());
      } else if (body) {
        const parts: Uint8Array[] = [];
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
        }
        bytes = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);
      }
    } catch (err) {
      error = errorInfo(err);
    }
    if (!this.settle()) return;
    const latencyMs = ms(this.init.startedAt);
    const interrupted = error ? this.interruption() : undefined;
    if (isSse || isEventStream) {
      this.emitResponse({
        status: response.status,
        headers: this.responseHeaders ?? {},
        chunks: this.chunks,
        latencyMs,
        error,
        interrupted,
        outcome: stream?.result(),
      });
      return;
    }
    const read = bytes;
    this.emitResponse({
      status: response.status,
      statusText: response.statusText,
      headers: this.responseHeaders ?? {},
      ...(read ? { body: () => encodeBody(read, contentType) } : {}),
      latencyMs,
      error,
      interrupted,
    });
  }

  private emitResponse(r: {
    status: number;
    statusText?: string;
    headers?: Record<string, string>;
    /** the body as recorded, encoded when the event is built */
    body?: () => { body: string; bodyEncoding: 'utf8' | 'base64' };
    chunks?: StreamChunk[];
    latencyMs?: number;
    error?: ErrorInfo | undefined;
    interrupted?: Interruption | undefined;
    outcome?: LlmOutcome | undefined;
  }): void {
    const { run, endpoint, requestEventId } = this.init;
    const latencyMs = r.latencyMs ?? ms(this.init.startedAt);
    // when it happened relative to the rest of the run (replay releases concurrent responses in this order)
    const timing = {
      startMs: ms(run.startedAt, this.init.startedAt),
      ...(this.headersAt !== undefined ? { headersMs: ms(this.init.startedAt, this.headersAt) } : {}),
      ...(r.interrupted ? { interrupted: r.interrupted } : {}),
    };
    const emit: Reservation =
      this.slot ??
      ((type, payload, parent) =>
        void (typeof payload === 'function' ? run.emitLater(type, payload, parent) : run.emit(type, payload, parent)));
    if (!endpoint) {
      const encoded = r.body?.();
      let error = r.error;
      if (!error && r.status >= 400)
        error = {
          name: 'HttpError',
          message: `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`,
          code: String(r.status),
        };
      emit(
        'http_response',
        {
          status: r.status,
          ...(r.statusText ? { statusText: r.statusText } : {}),
          ...(r.headers ? { headers: r.headers } : {}),
          ...(this.trailers ? { trailers: this.trailers } : {}),
          ...(encoded ? { body: encoded.body, bodyEncoding: encoded.bodyEncoding } : {}),
          ...(r.chunks ? { chunks: r.chunks } : {}),
          latencyMs,
          ...(error ? { error } : {}),
          ...timing,
        },
        requestEventId,
      );
      return;
    }
    // LLM: the JSON body is parsed for usage, model and finish reason by the writer, when the event is built (in trace
    // order, so the run's totals are complete when the terminal event is built after it)
    emit('llm_response', () => ({ ...this.llmResponsePayload(endpoint, r, latencyMs), ...timing }), requestEventId);
  }

  private llmResponsePayload(
    endpoint: LlmEndpoint,
    r: Parameters<Exchange['emitResponse']>[0],
    latencyMs: number,
  ): PayloadInputOf<'llm_response'> {
    const { run } = this.init;
    let parsedBody: unknown;
    let outcome = r.outcome;
    const encoded = r.body?.();
    if (encoded !== undefined && encoded.bodyEncoding !== 'base64') {
      try {
        parsedBody = JSON.parse(encoded.body);
      } catch {
        parsedBody = encoded.body;
      }
      outcome = outcomeFromJson(endpoint, parsedBody);
    }
    const model = outcome?.model ?? requestModel(this.init.requestBody(), endpoint);
    let error = r.error;
    if (!error && (r.status >= 400 || outcome?.error)) {
      error = {
        name: 'HttpError',
        message: outcome?.error?.message ?? `HTTP ${r.status}`,
        code: outcome?.error?.code ?? String(r.status),
      };
    }
    const usage = outcome?.usage;
    const costUsd = usage ? run.config.pricing.cost(model, usage) : null;
    if (usage) {
      run.totals.inputTokens += usage.inputTokens;
      run.totals.outputTokens += usage.outputTokens;
    }
    if (costUsd !== null) run.totals.costUsd += costUsd;
    return {
      provider: endpoint.provider,
      operation: endpoint.operation,
      model,
      status: r.status,
      ...(r.headers ? { headers: r.headers } : {}),
      ...(this.trailers ? { trailers: this.trailers } : {}),
      ...(parsedBody !== undefined ? { body: parsedBody } : {}),
      ...(r.chunks ? { chunks: r.chunks } : {}),
      ...(usage
        ? {
            usage: {
              inputTokens: usage.inputTokens,
              outputTokens: usage.outputTokens,
              ...(usage.cachedTokens !== undefined ? { cachedTokens: usage.cachedTokens } : {}),
              ...(usage.reasoningTokens !== undefined ? { reasoningTokens: usage.reasoningTokens } : {}),
              ...(usage.totalTokens !== undefined ? { totalTokens: usage.totalTokens } : {}),
            },
          }
        : {}),
      costUsd,
      latencyMs,
      ...(outcome?.finishReason !== undefined ? { finishReason: outcome.finishReason } : {}),
      ...(error ? { error } : {}),
    };
  }
}

/** The request body as text, or base64 when its bytes are not UTF-8. */
export async function readRequestBody(request: Request): Promise<{ text: string; base64: boolean } | undefined> {
  if (request.body === null || request.method === 'GET' || request.method === 'HEAD') return undefined;
  const buf = new Uint8Array(await request.clone().arrayBuffer());
  if (buf.length === 0) return undefined;
  try {
    return { text: utf8Strict.decode(buf), base64: false };
  } catch {
    return { text: Buffer.from(buf).toString('base64'), base64: true };
  }
}

function watchClientRequestErrors(request: Request, exchange: Exchange): void {
  const raw = getRawRequest(request) as { emit?: (event: string | symbol, ...args: unknown[]) => boolean } | undefined;
  if (!raw || typeof raw.emit !== 'function') return;
  const original = raw.emit;
  // wrap emit instead of adding an 'error' listener: a listener would change what an unhandled error does
  raw.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') exchange.failNetwork(args[0]);
    return original.call(this, event, ...args);
  };
}

/** What node:http2 capture (./http2.ts) drives: the same exchange fetch and node:http use. */
export interface PendingHttpExchange {
  failNetwork(err: unknown): void;
  onTrailers(trailers: Record<string, string>): void;
  onResponse(response: Response): void;
  onKnownResponse(response: Response, body: string | Uint8Array | null): void;
}

export interface RequestParts {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: { text: string; base64: boolean } | undefined;
  signal?: AbortSignal | undefined;
}

/** Records the request event (hash and occurrence from the unredacted request) and opens its exchange. */
export function beginHttpExchange(
  run: RunState,
  parts: RequestParts,
  transport: 'http2',
): { exchange: PendingHttpExchange; intercepted: InterceptedRequest | undefined } {
  return beginExchange(run, parts, transport);
}

function beginExchange(
  run: RunState,
  parts: RequestParts,
  transport: 'fetch' | 'http' | 'http2',
): { exchange: Exchange; intercepted: InterceptedRequest | undefined } {
  const startedAt = originalPerformanceNow();
  const { method, url, headers } = parts;
  const bodyText = parts.body?.text;
  // parsed once, for recognition, the request key and the event (normalizeRequest copies only the top level;
  // redaction copies on write), and only when first needed
  let parsed: ParsedBody | undefined;
  const parsedBody = (): ParsedBody => (parsed ??= parseBody(bodyText));
  const endpoint = detectLlmEndpoint(method, url, run.config.providers, {
    headers,
    body: () => {
      const p = parsedBody();
      return p.json ? p.value : undefined;
    },
    exclude: run.config.excludeEndpoints,
  });
  let requestBodyValue: { value: unknown } | undefined;
  const requestBody = (): unknown => {
    if (!requestBodyValue) {
      const p = parsedBody();
      requestBodyValue = { value: bodyText === undefined ? null : p.json ? p.value : bodyText };
    }
    return requestBodyValue.value;
  };
  const key = (): { normalized: NormalizedRequest; hash: string; occurrence: number } => {
    const normalized = normalizeRequest(
      { method, url, headers, ...(bodyText !== undefined ? { body: bodyText } : {}) },
      endpoint,
      run.config.normalization,
      parsedBody(),
    );
    const hash = requestHash(normalized);
    return { normalized, hash, occurrence: run.httpOccurrences.next(hash) };
  };
  const payload = (k: { hash: string; occurrence: number }) =>
    endpoint
      ? {
          type: 'llm_request' as const,
          payload: {
            provider: endpoint.provider,
            operation: endpoint.operation,
            model: requestModel(requestBody(), endpoint),
            method,
            url,
            headers,
            body: requestBody(),
            stream: requestWantsStream(requestBody(), endpoint, url),
            requestHash: k.hash,
            occurrence: k.occurrence,
          },
        }
      : {
          type: 'http_request' as const,
          payload: {
            method,
            url,
            headers,
            ...(bodyText !== undefined
              ? { body: bodyText, bodyEncoding: parts.body?.base64 ? ('base64' as const) : ('utf8' as const) }
              : {}),
            requestHash: k.hash,
            occurrence: k.occurrence,
          },
        };
  if (endpoint) run.totals.llmCalls++;
  else run.totals.httpCalls = (run.totals.httpCalls ?? 0) + 1;
  // made by the code of a tool (recorder.tool): the tool_call is the request's parent (context.ts ToolScope)
  const toolCall = currentToolCall();
  let requestEventId: string;
  let intercepted: InterceptedRequest | undefined;
  if (run.hooks) {
    // replay: the hooks answer by the request key, so it is computed now
    const k = key();
    const e = payload(k);
    requestEventId =
      e.type === 'llm_request'
        ? run.emit('llm_request', e.payload, toolCall)
        : run.emit('http_request', e.payload, toolCall);
    intercepted = {
      method,
      url,
      headers,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
      ...(endpoint ? { endpoint } : {}),
      normalized: k.normalized,
      requestHash: k.hash,
      occurrence: k.occurrence,
      transport,
      ...(parts.signal ? { signal: parts.signal } : {}),
    };
  } else {
    // record: nothing the agent waits for needs the key; the writer computes it (builders run in trace order, so the
    // occurrence of each request hash is counted in the order the requests were made)
    noteEnvBehindUrl(run, url);
    requestEventId = endpoint
      ? run.emitLater('llm_request', () => payload(key()).payload as PayloadInputOf<'llm_request'>, toolCall)
      : run.emitLater('http_request', () => payload(key()).payload as PayloadInputOf<'http_request'>, toolCall);
  }
  const exchange = new Exchange({
    run,
    transport,
    method,
    url,
    endpoint,
    requestBody,
    requestEventId,
    startedAt,
    signal: parts.signal,
  });
  return { exchange, intercepted };
}

// ---------------------------------------------------------------------------------------------------------------
// node:http / node:https, through @mswjs/interceptors' ClientRequestInterceptor

async function onRequest({
  request,
  requestId,
  controller,
}: {
  request: Request;
  requestId: string;
  controller: { respondWith(r: Response): void; errorWith(e?: Error): void };
}): Promise<void> {
  const run = currentRun();
  if (!run || !run.active) return;
  if ((request.headers.get('accept') ?? '').includes('msw/passthrough')) return;
  let exchange: Exchange;
  let intercepted: InterceptedRequest | undefined;
  try {
    const parts: RequestParts = {
      method: request.method.toUpperCase(),
      url: request.url,
      headers: headersOf(request.headers, false),
      body: await readRequestBody(request),
      signal: request.signal,
    };
    ({ exchange, intercepted } = beginExchange(run, parts, 'http'));
    byRequestId.set(requestId, exchange);
    watchClientRequestErrors(request, exchange);
  } catch {
    // a recorder bug must never change what the agent sees: let the request through unrecorded
    return;
  }
  const hooks = run.hooks;
  if (!hooks || !intercepted) return;
  const asked = intercepted;
  let answer: Response | undefined;
  try {
    answer = await hooks.respondHttp(asked);
  } catch (err) {
    byRequestId.delete(requestId);
    exchange.failNetwork(err);
    controller.errorWith(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  if (answer) controller.respondWith(answer);
}

function onResponse({ response, requestId }: { response: Response; requestId: string }): void {
  const exchange = byRequestId.get(requestId);
  if (!exchange) return;
  byRequestId.delete(requestId);
  try {
    exchange.onResponse(response);
  } catch {
    // never let recording change the response
  }
}

// ---------------------------------------------------------------------------------------------------------------
// global fetch, through our own thin wrapper. @mswjs/interceptors' FetchInterceptor rebuilds every request as a
// stream-bodied Request and clones it before performing it, which cost ~1 ms per call here (measured in
// bench/recorder.bench.ts); the wrapper hands the caller's own (input, init) to the real fetch untouched and only
// tees the response. Same recording code (beginExchange / Exchange), same ReplayHooks contract.

type FetchInput = Parameters<typeof globalThis.fetch>[0];

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** what Headers would refuse (CR, LF, NUL, non-Latin-1), or trim (leading/trailing HTTP whitespace) */
const HEADER_VALUE_SLOW = /[\0\r\n]|[^\x00-\xff]|^[\t ]|[\t ]$/;

/**
 * Headers given as a plain object of valid names and string values, read the way `new Headers(init).forEach` would
 * (lower-case names, sorted) without building a Headers — which, with msw's ClientRequestInterceptor applied, goes
 * through its Headers proxy. undefined for anything else (arrays, Headers, duplicates by case, values to normalize).
 */
function plainHeadersRecord(init: object): Record<string, string> | undefined {
  const proto = Object.getPrototypeOf(init) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const record = init as Record<string, unknown>;
  const names: string[] = [];
  const values = new Map<string, string>();
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (typeof value !== 'string' || !HEADER_NAME.test(key) || HEADER_VALUE_SLOW.test(value)) return undefined;
    const name = key.toLowerCase();
    if (values.has(name)) return undefined;
    values.set(name, value);
    names.push(name);
  }
  names.sort();
  const out: Record<string, string> = {};
  for (const name of names) out[name] = values.get(name) as string;
  return out;
}

function headersRecord(init: ConstructorParameters<typeof Headers>[0]): Record<string, string> {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  if (typeof init === 'object' && init !== null && !Array.isArray(init)) {
    const plain = plainHeadersRecord(init);
    if (plain) return plain;
  }
  new Headers(init).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function textOfBody(body: unknown): { text: string; base64: boolean } | undefined | 'unknown' {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body === '' ? undefined : { text: body, base64: false };
  if (body instanceof URLSearchParams) return { text: body.toString(), base64: false };
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes =
      body instanceof ArrayBuffer
        ? new Uint8Array(body)
        : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    if (bytes.length === 0) return undefined;
    try {
      return { text: utf8Strict.decode(bytes), base64: false };
    } catch {
      return { text: Buffer.from(bytes).toString('base64'), base64: true };
    }
  }
  return 'unknown';
}

/** What the recorder needs from a fetch call, and the arguments to pass on (unchanged when possible). */
async function fetchParts(
  input: FetchInput,
  init: RequestInit | undefined,
): Promise<{ parts: RequestParts; forward: [FetchInput, RequestInit?] }> {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const fast = !isRequest || (input.body === null && init?.body === undefined);
  const body = textOfBody(init?.body);
  if (fast && body !== 'unknown') {
    const method = (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
    const url = isRequest ? input.url : input instanceof URL ? input.href : new URL(String(input)).href;
    const headers =
      init?.headers !== undefined ? headersRecord(init.headers) : isRequest ? headersOf(input.headers, false) : {};
    if (body !== undefined && headers['content-type'] === undefined && typeof init?.body === 'string')
      headers['content-type'] = 'text/plain;charset=UTF-8';
    const signal = init?.signal ?? (isRequest ? input.signal : undefined);
    return { parts: { method, url, headers, body, ...(signal ? { signal } : {}) }, forward: [input, init] };
  }
  // streams, Blobs, FormData, Request bodies: let a Request serialize it, read a clone, send the Request itself
  const request = new Request(input, init);
  return {
    parts: {
      method: request.method.toUpperCase(),
      url: request.url,
      headers: headersOf(request.headers, false),
      body: await readRequestBody(request),
      signal: request.signal,
    },
    forward: [request],
  };
}

function networkErrorFrom(response: Response): TypeError {
  return Object.assign(new TypeError('Failed to fetch'), { cause: response });
}

function wrapFetch(original: typeof fetch): typeof fetch {
  const wrapped = async function fetch(input: FetchInput, init?: RequestInit): Promise<Response> {
    const run = currentRun();
    if (!run || !run.active) return original(input, init);
    let exchange: Exchange;
    let intercepted: InterceptedRequest | undefined;
    let forward: [FetchInput, RequestInit?];
    try {
      const described = await fetchParts(input, init);
      forward = described.forward;
      ({ exchange, intercepted } = beginExchange(run, described.parts, 'fetch'));
    } catch {
      // a recorder bug (or an argument fetch itself will reject) must not change what the agent sees; as the network
      // layer, so that the dispatcher capture does not route it back here
      return inNetwork(run, () => original(input, init));
    }
    const hooks = run.hooks;
    if (hooks && intercepted) {
      const request = intercepted;
      let answer: Response | undefined;
      try {
        answer = await inNetwork(run, () => hooks.respondHttp(request));
      } catch (err) {
        exchange.failNetwork(err);
        throw err;
      }
      if (answer) {
        if (answer.type === 'error') {
          const err = networkErrorFrom(answer);
          exchange.failNetwork(err);
          throw err;
        }
        const known = hooks.bodyOf?.(answer);
        if (known !== undefined) exchange.onKnownResponse(answer, known);
        else exchange.onResponse(answer.clone());
        return answer;
      }
    }
    let response: Response;
    try {
      response = await inNetwork(run, () => original(...forward));
    } catch (err) {
      exchange.failNetwork(err);
      throw err;
    }
    try {
      exchange.onResponse(response.clone());
    } catch {
      // never let recording change the response
    }
    return response;
  };
  return wrapped as typeof fetch;
}

let interceptor: BatchInterceptor<[ClientRequestInterceptor]> | undefined;
let originalFetch: typeof fetch | undefined;
let ourFetch: typeof fetch | undefined;

/** The fetch the wrapper hands requests to (the one found when capture was installed), for dispatcher.ts. */
export function capturedFetch(): typeof fetch | undefined {
  return ourFetch;
}

function installHttpCapture(): () => void {
  const batch = new BatchInterceptor({
    name: 'agent-retrace-recorder',
    interceptors: [new ClientRequestInterceptor()],
  });
  batch.on('request', onRequest);
  batch.on('response', onResponse);
  batch.apply();
  interceptor = batch;
  originalFetch = globalThis.fetch;
  ourFetch = wrapFetch(originalFetch);
  globalThis.fetch = ourFetch;
  // a client that kept its own reference to fetch (or was built before this) still reaches undici's global
  // dispatcher: requests seen there that did not come through the wrapper are routed through it (dispatcher.ts)
  const releaseDispatcher = installDispatcherCapture((input, init) => (ourFetch ?? fetch)(input, init));
  const releaseWatch = watchUncapturedRequests((run, origin) => run.noteUncaptured(origin));
  // ESM named imports of node:http(s) are live bindings of the CJS exports only after this
  syncBuiltinESMExports();
  return () => {
    releaseWatch();
    releaseDispatcher();
    if (globalThis.fetch === ourFetch && originalFetch) globalThis.fetch = originalFetch;
    interceptor?.dispose();
    interceptor = undefined;
    originalFetch = undefined;
    ourFetch = undefined;
    byRequestId.clear();
    syncBuiltinESMExports();
  };
}

/**
 * Installs the interception (once per process — across every copy of agent-retrace, see shared.ts — ref-counted);
 * returns the release function.
 */
export function acquireHttpCapture(): () => void {
  return acquireShared('http', installHttpCapture);
}
