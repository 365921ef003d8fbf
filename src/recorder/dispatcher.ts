import diagnosticsChannel from 'node:diagnostics_channel';
import { currentRun, inNetworkLayer } from './context.js';

/**
 * Capture below `globalThis.fetch`: every fetch of Node's built-in undici (and `request()` of the npm undici package,
 * which reads the same global) goes through the global dispatcher at `globalThis[Symbol.for('undici.globalDispatcher.1')]`,
 * whenever the caller read `fetch` — so an SDK client built before the recorder, or one that kept its own reference
 * to fetch, still arrives here. Such a request (inside a run, not already passing through the recorder's fetch wrapper,
 * which marks its own network calls with inNetwork) is re-issued through the wrapper — recorded, or answered by the
 * replay hooks, exactly like a direct fetch — and the wrapper's response is fed back to undici's handler.
 *
 * What still escapes (a client with its own undici Agent/Pool passed as `dispatcher`) is seen on undici's
 * `undici:request:create` diagnostics channel and reported by the run at its end (uncaptured-clients.ts), so a trace
 * is never silently empty.
 */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

type HeaderInput = string[] | Record<string, string | string[] | undefined> | Iterable<[string, string]> | null;

interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: HeaderInput;
  body?: unknown;
  upgrade?: string | boolean | null;
}

/** undici's handler, in its classic (undici 6, Node 20/22) and its newer (undici 7, Node 24) form */
interface DispatchHandler {
  onConnect?(abort: (err?: Error) => void, context?: unknown): void;
  onHeaders?(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(err: Error): void;
  onResponseStarted?(): void;
  onRequestStart?(controller: unknown, context: unknown): void;
  onResponseStart?(controller: unknown, status: number, headers: Record<string, string>, statusText: string): void;
  onResponseData?(controller: unknown, chunk: Buffer): void;
  onResponseEnd?(controller: unknown, trailers: Record<string, string>): void;
  onResponseError?(controller: unknown, err: Error): void;
}

interface Dispatcher {
  dispatch(options: DispatchOptions, handler: DispatchHandler): boolean;
}

type RouteFetch = (input: string, init: RequestInit) => Promise<Response>;

function headerPairs(headers: HeaderInput | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!headers) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([String(headers[i]), String(headers[i + 1])]);
    return out;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) out.push([String(k), String(v)]);
    return out;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, String(one)]);
  }
  return out;
}

async function bodyBytes(body: unknown): Promise<Uint8Array | string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const parts: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(parts);
  }
  throw new TypeError('unsupported request body');
}

/** the body is handed over decoded, so undici must not decode it again, nor count it against the wire length */
const DROPPED_RESPONSE_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding']);

async function feed(response: Response, handler: DispatchHandler, aborted: () => boolean): Promise<void> {
  const kept: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) kept.push([name, value]);
  });
  const modern = typeof handler.onResponseStart === 'function' && typeof handler.onHeaders !== 'function';
  let paused: (() => void) | undefined;
  let waitResume: Promise<void> | undefined;
  const resume = (): void => {
    const p = paused;
    paused = undefined;
    waitResume = undefined;
    p?.();
  };
  if (modern) {
    handler.onResponseStart?.({}, response.status, Object.fromEntries(kept), response.statusText);
  } else {
    handler.onResponseStarted?.();
    const raw = kept.flatMap(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
    handler.onHeaders?.(response.status, raw, resume, response.statusText);
  }
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      if (aborted()) {
        await reader.cancel().catch(() => undefined);
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = Buffer.from(value);
      if (modern) handler.onResponseData?.({}, chunk);
      else if (handler.onData?.(chunk) === false) {
        waitResume ??= new Promise<void>((r) => {
          paused = r;
        });
        await waitResume;
      }
    }
  }
  if (aborted()) return;
  if (modern) handler.onResponseEnd?.({}, {});
  else handler.onComplete?.([]);
}

function fail(handler: DispatchHandler, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  if (typeof handler.onError === 'function') handler.onError(e);
  else handler.onResponseError?.({}, e);
}

function routed(options: DispatchOptions, handler: DispatchHandler, route: RouteFetch): boolean {
  const controller = new AbortController();
  let abortedBy: Error | undefined;
  const abort = (err?: Error): void => {
    if (abortedBy) return;
    abortedBy = err ?? new Error('aborted');
    controller.abort(abortedBy);
  };
  if (typeof handler.onConnect === 'function') handler.onConnect(abort);
  else handler.onRequestStart?.({ abort, pause() {}, resume() {} }, {});
  void (async () => {
    try {
      const url = new URL(options.path, options.origin).href;
      const body = await bodyBytes(options.body);
      const init: RequestInit = {
        method: (options.method ?? 'GET').toUpperCase(),
        headers: headerPairs(options.headers),
        signal: controller.signal,
        redirect: 'manual',
      };
      if (body !== undefined) init.body = body as NonNullable<RequestInit['body']>;
      const response = await route(url, init);
      await feed(response, handler, () => abortedBy !== undefined);
    } catch (err) {
      if (abortedBy === undefined || err !== abortedBy) fail(handler, err);
      else fail(handler, abortedBy);
    }
  })();
  return true;
}

/** Wraps the current global dispatcher; returns the uninstall. A no-op where Node has no undici global dispatcher. */
export function installDispatcherCapture(route: RouteFetch): () => void {
  // reading Response loads Node's bundled undici, which installs its default global dispatcher
  void globalThis.Response;
  const slot = globalThis as typeof globalThis & { [GLOBAL_DISPATCHER]?: Dispatcher };
  const original = slot[GLOBAL_DISPATCHER];
  if (!original || typeof original.dispatch !== 'function') return () => undefined;
  const dispatch = (options: DispatchOptions, handler: DispatchHandler): boolean => {
    const run = inNetworkLayer() ? undefined : currentRun();
    if (!run || options.upgrade || (options.method ?? 'GET').toUpperCase() === 'CONNECT')
      return original.dispatch(options, handler);
    return routed(options, handler, route);
  };
  const proxy = new Proxy(original, {
    get(target, prop) {
      if (prop === 'dispatch') return dispatch;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  slot[GLOBAL_DISPATCHER] = proxy;
  return () => {
    if (slot[GLOBAL_DISPATCHER] === proxy) slot[GLOBAL_DISPATCHER] = original;
  };
}

/** A request undici created for a run outside both capture paths (its own dispatcher): named at the run's end. */
export function watchUncapturedRequests(
  onUncaptured: (run: NonNullable<ReturnType<typeof currentRun>>, origin: string) => void,
): () => void {
  const channel = diagnosticsChannel.channel('undici:request:create');
  const listener = (message: unknown): void => {
    if (inNetworkLayer()) return;
    const run = currentRun();
    if (!run) return;
    const request = (message as { request?: { origin?: unknown; path?: unknown } }).request;
    onUncaptured(run, String(request?.origin ?? 'unknown origin'));
  };
  channel.subscribe(listener);
  return () => channel.unsubscribe(listener);
}
