import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { syncBuiltinESMExports } from 'node:module';
import { Duplex } from 'node:stream';
import { currentRun, inNetwork } from './context.js';
import type { InterceptedRequest } from './hooks.js';
import { beginHttpExchange, type PendingHttpExchange, type RequestParts } from './http.js';
import type { RunState } from './run.js';

/**
 * node:http2 client capture (the AWS SDK's default handler for Bedrock Runtime talks HTTP/2). `http2.connect` is
 * wrapped once per process, ref-counted like ./http.ts:
 *   - record: the real session, whose `request()` streams are observed without changing them — the request body from
 *     the stream's own write/end, the response from its 'response' event and the chunks Node pushes into it — and fed
 *     to the same exchange recording as fetch and node:http (./http.ts), and its 'trailers' (the HEADERS after the
 *     body, e.g. gRPC's grpc-status), which a web Response cannot carry, given to the exchange beside it;
 *   - replay (ReplayHooks installed): a session that never opens a socket; each stream is answered by the hooks from
 *     the recording, as an HTTP/2 stream (':status' headers, data, the recorded trailers, end). A request the hooks let through (the live
 *     policy) goes to a real session opened then with the connect function this one wrapped — which, inside the
 *     replay sandbox, is the network guard's (sandbox/guard.ts), so a strict replay still never connects.
 */

type Connect = (...args: unknown[]) => http2.ClientHttp2Session;
type H2Headers = Record<string, string | string[] | number | undefined>;

let refs = 0;
let originalConnect: Connect | undefined;
let ourConnect: Connect | undefined;

function authorityOf(arg: unknown): URL | undefined {
  try {
    return arg instanceof URL ? new URL(arg.href) : new URL(String(arg));
  } catch {
    return undefined;
  }
}

/** "host:port" of a session's authority, the port spelled out */
function authorityKey(u: URL): string {
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

function headerText(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function requestParts(authority: URL, headers: H2Headers, body: Buffer[]): RequestParts {
  const method = (headerText(headers[':method']) ?? 'GET').toUpperCase();
  const path = headerText(headers[':path']) ?? '/';
  const scheme = headerText(headers[':scheme']) ?? authority.protocol.replace(/:$/, '');
  const host = headerText(headers[':authority']) ?? authority.host;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':')) continue;
    const text = headerText(value);
    if (text !== undefined) out[name.toLowerCase()] = text;
  }
  const bytes = Buffer.concat(body);
  let text: { text: string; base64: boolean } | undefined;
  if (bytes.length > 0) {
    try {
      text = { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), base64: false };
    } catch {
      text = { text: bytes.toString('base64'), base64: true };
    }
  }
  return { method, url: `${scheme}://${host}${path}`, headers: out, body: text };
}

function webHeaders(headers: http2.IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    try {
      for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v));
    } catch {
      // a header fetch's Headers refuses is left out of the recording, not fatal
    }
  }
  return out;
}

/** Trailing headers as recorded: lower-case names, repeated values joined, pseudo-headers left out. */
function plainHeaders(headers: http2.IncomingHttpHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.startsWith(':')) continue;
    const text = headerText(value);
    if (text !== undefined) out[name.toLowerCase()] = text;
  }
  return out;
}

function toChunk(chunk: unknown, encoding?: BufferEncoding): Buffer | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return undefined;
}

// -------------------------------------------------------------------------------------------------------------
// record: observe a real stream

/** Collects what the caller writes into an HTTP/2 request stream, and calls `done` when it ends. */
function observeRequestBody(stream: http2.ClientHttp2Stream, done: (body: Buffer[]) => void): void {
  const body: Buffer[] = [];
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(body);
  };
  const write = stream.write;
  const end = stream.end;
  stream.write = function (this: http2.ClientHttp2Stream, chunk: unknown, ...rest: unknown[]): boolean {
    const b = toChunk(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    if (b) body.push(b);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  stream.end = function (this: http2.ClientHttp2Stream, ...args: unknown[]): http2.ClientHttp2Stream {
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    const b = toChunk(chunk, typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    if (b) body.push(b);
    const r = (end as (...a: unknown[]) => http2.ClientHttp2Stream).apply(this, args);
    finish();
    return r;
  } as typeof stream.end;
  // a stream opened with endStream (GET) has no body to wait for
  if (stream.writableEnded) finish();
}

/**
 * A web Response mirroring the stream's response: built at its 'response' event, its body fed by the chunks Node
 * pushes into the stream. Events are observed by wrapping `emit` (adding listeners would change what an unhandled
 * 'error' does) and `push`.
 */
function observeResponse(stream: http2.ClientHttp2Stream, exchange: () => PendingHttpExchange | undefined): void {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let responded = false;
  let ended = false;
  const early: Buffer[] = [];
  const push = stream.push;
  stream.push = function (this: http2.ClientHttp2Stream, chunk: unknown, encoding?: BufferEncoding): boolean {
    try {
      if (chunk === null) {
        ended = true;
        controller?.close();
      } else {
        const b = toChunk(chunk, encoding);
        if (b) {
          if (controller) controller.enqueue(new Uint8Array(b));
          else early.push(b);
        }
      }
    } catch {
      // never let recording change the stream
    }
    return push.call(this, chunk, encoding);
  };
  const emit = stream.emit;
  stream.emit = function (this: http2.ClientHttp2Stream, event: string | symbol, ...args: unknown[]): boolean {
    try {
      if (event === 'response' && !responded) {
        responded = true;
        const headers = (args[0] ?? {}) as http2.IncomingHttpHeaders;
        const status = Number(headers[':status'] ?? 200);
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            controller = c;
            for (const b of early) c.enqueue(new Uint8Array(b));
            if (ended) c.close();
          },
        });
        const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
        exchange()?.onResponse(new Response(nullBody ? null : body, { status, headers: webHeaders(headers) }));
      } else if (event === 'trailers') {
        // HEADERS after the body (gRPC's grpc-status): Node emits them before the end of the stream
        exchange()?.onTrailers(plainHeaders(args[0] as http2.IncomingHttpHeaders | undefined));
      } else if (event === 'error' || event === 'aborted') {
        const err = event === 'error' ? args[0] : new Error('HTTP/2 stream aborted');
        if (!responded) exchange()?.failNetwork(err);
        else if (!ended) controller?.error(err);
      } else if (event === 'close' && !ended) {
        if (!responded) exchange()?.failNetwork(new Error('HTTP/2 stream closed before a response'));
        else controller?.error(new Error('HTTP/2 stream closed before its end'));
      }
    } catch {
      // never let recording change the stream
    }
    return emit.call(this, event, ...args);
  } as typeof stream.emit;
}

function recordSession(session: http2.ClientHttp2Session, authority: URL): http2.ClientHttp2Session {
  const request = session.request;
  session.request = function (this: http2.ClientHttp2Session, ...args: unknown[]): http2.ClientHttp2Stream {
    const stream = (request as (...a: unknown[]) => http2.ClientHttp2Stream).apply(this, args);
    const run = currentRun();
    if (!run?.active || run.hooks) return stream;
    try {
      const headers = (args[0] ?? {}) as H2Headers;
      let exchange: PendingHttpExchange | undefined;
      observeRequestBody(stream, (body) => {
        try {
          exchange = beginHttpExchange(run, requestParts(authority, headers, body), 'http2').exchange;
        } catch {
          // a recorder bug must never change what the agent sees
        }
      });
      observeResponse(stream, () => exchange);
    } catch {
      // unrecorded rather than broken
    }
    return stream;
  } as typeof session.request;
  return session;
}

// -------------------------------------------------------------------------------------------------------------
// replay: a session that answers from the recording

class ReplayHttp2Stream extends Duplex {
  readonly pending = false;
  readonly sentHeaders: H2Headers;
  rstCode = 0;
  id = 1;
  private readonly body: Buffer[] = [];

  constructor(
    private readonly session: ReplayHttp2Session,
    headers: H2Headers,
  ) {
    super({ allowHalfOpen: true });
    this.sentHeaders = headers;
  }

  override _write(chunk: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    const b = toChunk(chunk, encoding);
    if (b) this.body.push(b);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    cb();
    void this.session.answer(this, this.sentHeaders, this.body);
  }

  override _read(): void {
    // pushed as the answer's body is read
  }

  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }
  close(code?: number, cb?: () => void): void {
    this.rstCode = code ?? 0;
    if (!this.destroyed) this.destroy();
    if (cb) this.once('close', cb);
  }
  priority(): void {}
  sendTrailers(): void {}
}

class ReplayHttp2Session extends EventEmitter {
  destroyed = false;
  closed = false;
  connecting = false;
  readonly encrypted: boolean;
  readonly alpnProtocol = 'h2';
  readonly originSet: string[];
  readonly type = 1;
  private live: http2.ClientHttp2Session | undefined;

  constructor(
    private readonly authority: URL,
    private readonly run: RunState,
    private readonly connectArgs: unknown[],
    private readonly connect: Connect,
  ) {
    super();
    this.encrypted = authority.protocol === 'https:';
    this.originSet = [authority.origin];
    process.nextTick(() => {
      if (!this.destroyed) this.emit('connect', this, undefined);
    });
  }

  request(headers: H2Headers = {}, options?: { endStream?: boolean }): ReplayHttp2Stream {
    const stream = new ReplayHttp2Stream(this, headers);
    const method = String(headers[':method'] ?? 'GET').toUpperCase();
    if (options?.endStream ?? (method === 'GET' || method === 'HEAD')) stream.end();
    return stream;
  }

  /** Answers one stream: from the recording, or live when the hooks let it through. */
  async answer(stream: ReplayHttp2Stream, headers: H2Headers, body: Buffer[]): Promise<void> {
    const run = this.run;
    const hooks = run.hooks;
    let exchange: PendingHttpExchange;
    let intercepted: InterceptedRequest | undefined;
    try {
      ({ exchange, intercepted } = beginHttpExchange(run, requestParts(this.authority, headers, body), 'http2'));
    } catch (err) {
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!hooks || !intercepted) return this.goLive(stream, headers, body, exchange);
    const asked = intercepted;
    let answer: Response | undefined;
    try {
      answer = await inNetwork(run, () => hooks.respondHttp(asked));
    } catch (err) {
      exchange.failNetwork(err);
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!answer) return this.goLive(stream, headers, body, exchange);
    // recorded before the response is (a known body is recorded at once), and sent after the body like the server did
    const trailers = hooks.trailersOf?.(answer);
    if (trailers) exchange.onTrailers(trailers);
    const known = hooks.bodyOf?.(answer);
    if (known !== undefined) exchange.onKnownResponse(answer, known);
    else exchange.onResponse(answer.clone());
    const h2: Record<string, string | number | string[]> = { ':status': answer.status };
    answer.headers.forEach((value, name) => {
      h2[name] = value;
    });
    stream.emit('response', h2, 0);
    try {
      if (answer.body) {
        const reader = answer.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done || stream.destroyed) break;
          stream.push(Buffer.from(value));
        }
      }
      if (trailers && !stream.destroyed) stream.emit('trailers', { ...trailers }, 0);
      stream.push(null);
    } catch (err) {
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The live policy: a real session, opened on first use with the wrapped connect (the sandbox guard decides). */
  private goLive(stream: ReplayHttp2Stream, headers: H2Headers, body: Buffer[], exchange: PendingHttpExchange): void {
    let real: http2.ClientHttp2Stream;
    try {
      this.live ??= this.connect(...this.connectArgs.slice(0, 2).filter((a) => typeof a !== 'function'));
      real = this.live.request(headers);
    } catch (err) {
      exchange.failNetwork(err);
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    observeResponse(real, () => exchange);
    real.on('response', (h, flags) => stream.emit('response', h, flags));
    real.on('data', (chunk: Buffer) => stream.push(chunk));
    real.on('trailers', (h, flags) => stream.emit('trailers', h, flags));
    real.on('end', () => stream.push(null));
    real.on('error', (err) => stream.destroy(err));
    real.end(Buffer.concat(body));
  }

  close(cb?: () => void): void {
    this.closed = true;
    if (cb) process.nextTick(cb);
    this.live?.close();
    process.nextTick(() => this.destroy());
  }
  destroy(err?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
    this.live?.destroy();
    process.nextTick(() => {
      if (err) this.emit('error', err);
      this.emit('close');
    });
  }
  ref(): void {}
  unref(): void {}
  setTimeout(_ms: number, _cb?: () => void): void {}
  settings(_settings: unknown, cb?: (err: Error | null) => void): void {
    if (cb) process.nextTick(() => cb(null));
  }
  ping(cb?: (err: Error | null, duration: number, payload: Buffer) => void): boolean {
    if (cb) process.nextTick(() => cb(null, 0, Buffer.alloc(8)));
    return true;
  }
  goaway(): void {}
}

function wrapConnect(original: Connect): Connect {
  return function connect(...args: unknown[]): http2.ClientHttp2Session {
    const authority = authorityOf(args[0]);
    const run = currentRun();
    if (!authority) return original(...args);
    if (run?.active && run.hooks && (run.hooks.knowsAuthority?.(authorityKey(authority)) ?? true)) {
      const session = new ReplayHttp2Session(authority, run, args, original);
      const listener = args.find((a) => typeof a === 'function') as ((...a: unknown[]) => void) | undefined;
      if (listener) session.once('connect', listener);
      return session as unknown as http2.ClientHttp2Session;
    }
    return recordSession(original(...args), authority);
  };
}

/** Installs node:http2 capture (once per process, ref-counted); returns the release function. */
export function acquireHttp2Capture(): () => void {
  if (refs++ === 0) {
    originalConnect = http2.connect as unknown as Connect;
    ourConnect = wrapConnect(originalConnect);
    (http2 as { connect: unknown }).connect = ourConnect;
    syncBuiltinESMExports();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--refs === 0) {
      if ((http2.connect as unknown) === ourConnect && originalConnect)
        (http2 as { connect: unknown }).connect = originalConnect;
      originalConnect = undefined;
      ourConnect = undefined;
      syncBuiltinESMExports();
    }
  };
}
