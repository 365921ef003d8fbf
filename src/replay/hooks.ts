import type {
  InterceptedRequest,
  NondeterminismSource,
  ReplayHooks,
  ToolAnswer,
  ToolCallInfo,
} from '../recorder/hooks.js';
import { redactUrl, redactValue } from '../secrets/redact.js';
import { errorFromInfo } from '../recorder/serialize.js';
import type { ReplayCache } from './cache/lookup.js';
import type { RecordedExchange, RecordedHttpResponse } from './cache/types.js';
import { wireChunk } from '../providers/index.js';
import { ReplayMissError, ReplayStoppedError } from './errors.js';
import type { PatchOp } from '../diff/json-diff.js';
import type { OnMissPolicy } from './on-miss.js';
import type { ArrivalClock, ArrivalPlan, ArrivalTicket } from './arrivals.js';
import { awaitTurn, errorOfClass, timedStream } from './timed-answer.js';

/**
 * ReplayHooks built from the caches: LLM/HTTP answers, tool answers, nondeterministic values, overrides. Runs inside the sandbox: the recorder calls these from its
 * one interception path, so a replayed request is answered without leaving the process.
 */

export { ON_MISS_POLICIES, type OnMissPolicy } from './on-miss.js';

export interface ReplayMiss {
  kind: 'llm' | 'http' | 'tool';
  /** what the policy did: stopped the replay, served the recorded step at the same position, or let it through */
  policy: OnMissPolicy;
  /** 0-based position of the request among the replay's requests of its kind (HTTP-level, or tool calls) */
  position: number;
  request: {
    method?: string;
    url?: string;
    target?: string;
    tool?: string;
    requestHash?: string;
    argsHash?: string;
    occurrence: number;
  };
  /** the nearest recorded request (same target first, then smallest diff) */
  nearest?: { seq: number; index: number; requestHash?: string; occurrence: number };
  /** recorded (nearest) → replayed, JSON Pointer paths into the normalized request (or the tool arguments) */
  diff: PatchOp[];
  /** under `nearest`: the seq of the recorded request whose answer was served instead */
  servedSeq?: number;
  message: string;
}

/** A replacement for one recorded LLM response (src/replay/override.ts), resolved against the trace by the parent. */
export interface ResolvedOverride {
  /** seq of the recorded request whose response is replaced */
  requestSeq: number;
  status?: number;
  body?: unknown;
  chunks?: string[];
}

export type ReplayNotice =
  | { type: 'miss'; miss: ReplayMiss }
  | { type: 'until-reached'; seq: number }
  | { type: 'forked'; atSeq: number }
  | { type: 'override-served'; requestSeq: number };

export interface ReplayHooksOptions {
  cache: ReplayCache;
  onMiss: OnMissPolicy;
  /** re-emit streamed chunks at once instead of with their recorded spacing */
  fast: boolean;
  /** replay from the recording up to this event seq; later requests stop the replay, or go live when onMiss is 'live' */
  until?: number;
  override?: ResolvedOverride;
  report(notice: ReplayNotice): void;
  /** tells the sandbox a replayed response is being produced, so fast-forwarded timers wait for it */
  activity?: { begin(): void; end(): void };
  /** a real (not fast-forwarded) sleep for stream timing */
  sleep?: (ms: number) => Promise<void>;
  /** called once before the first request that goes to the real network (live policy or fork) */
  onLive?: () => void;
  /** release answers in the recorded order of completion, on the virtual clock (src/replay/arrivals.ts) */
  arrivals?: { plan: ArrivalPlan; clock: ArrivalClock };
}

/** the tickets of one replayed exchange, taken when its request was made */
interface Turns {
  head: ArrivalTicket;
  chunks: ArrivalTicket[];
  end?: ArrivalTicket;
}

/**
 * Response as it was when this module was first evaluated — before the recorder applies msw's ClientRequestInterceptor,
 * which replaces the global with a proxy recording raw headers for node:http (a second Headers per Response). Answers
 * to fetch() are built with this one; answers to node:http requests with the global, so msw sees their raw headers.
 */
const NativeResponse: typeof Response = globalThis.Response;

const DROP_RESPONSE_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const encoder = new TextEncoder();

/** what fetch accepts as a header value (no CR/LF/NUL), so one odd recorded header cannot fail the whole response */
function isHeaderValue(v: string): boolean {
  return !/[\r\n\0]/.test(v);
}

function decode(body: string, encoding: 'utf8' | 'base64'): Uint8Array | string {
  return encoding === 'base64' ? Buffer.from(body, 'base64') : body;
}

export function createReplayHooks(options: ReplayHooksOptions): ReplayHooks & { readonly misses: ReplayMiss[] } {
  const { cache, onMiss, fast } = options;
  const misses: ReplayMiss[] = [];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let httpPosition = 0;
  const toolPositions = new Map<string, number>();
  let toolPosition = 0;
  let stopped: Error | undefined;
  let forked = false;
  let liveAnnounced = false;

  const goLive = (): undefined => {
    if (!liveAnnounced) {
      liveAnnounced = true;
      options.arrivals?.clock.releaseAll();
      options.onLive?.();
    }
    return undefined;
  };

  /** the exchange's arrivals, announced to the virtual clock now (its request was just made) */
  const turnsOf = (x: RecordedExchange): Turns | undefined => {
    const planned = options.arrivals?.plan.exchanges.get(x.index);
    if (!planned || !options.arrivals) return undefined;
    const clock = options.arrivals.clock;
    const now = clock.virtualNow;
    const list = [planned.head, ...planned.chunks, ...(planned.end ? [planned.end] : [])];
    const tickets = clock.expect(list.map((p) => ({ rank: p.rank, due: now + p.offset })));
    const head = tickets[0] as ArrivalTicket;
    const chunks = tickets.slice(1, 1 + planned.chunks.length);
    const end = planned.end ? tickets[tickets.length - 1] : undefined;
    return end ? { head, chunks, end } : { head, chunks };
  };

  /** true when a recorded step lies beyond `until`: stop there, or fork to live */
  const beyondUntil = (seq: number): boolean => {
    if (options.until === undefined || seq <= options.until) return false;
    if (onMiss === 'live') {
      if (!forked) {
        forked = true;
        options.report({ type: 'forked', atSeq: options.until });
      }
      return true;
    }
    if (!stopped) {
      stopped = new ReplayStoppedError(
        `The replay reached its stop point (event ${options.until}); the agent's next step was not replayed.`,
      );
      options.report({ type: 'until-reached', seq: options.until });
    }
    return true;
  };

  /** bodies of the non-streamed responses built here, for the recorder (ReplayHooks.bodyOf) */
  const bodies = new WeakMap<Response, string | Uint8Array | null>();
  /** trailers recorded after the body (HTTP/2), which a web Response cannot carry (ReplayHooks.trailersOf) */
  const trailers = new WeakMap<Response, Record<string, string>>();
  const known = (response: Response, body: string | Uint8Array | null): Response => {
    bodies.set(response, body);
    return response;
  };

  const buildResponse = (
    x: RecordedExchange,
    rec: RecordedHttpResponse,
    forFetch: boolean,
    turns?: Turns,
    signal?: AbortSignal,
  ): Response => {
    const Response_ = forFetch ? NativeResponse : globalThis.Response;
    let status = rec.status;
    // base64 bodies are bytes: decoded to a Buffer, not to a string (which would replace every non-UTF-8 byte)
    let body: string | Uint8Array | undefined = rec.body !== undefined ? decode(rec.body, rec.bodyEncoding) : undefined;
    let chunks = rec.chunks?.map((c) => ({ t: c.t, data: c.data }));
    const ov = options.override;
    if (ov && ov.requestSeq === x.seq) {
      options.report({ type: 'override-served', requestSeq: x.seq });
      status = ov.status ?? (status >= 200 && status < 300 ? status : 200);
      if (ov.chunks) {
        chunks = ov.chunks.map((data) => ({ t: 0, data }));
        body = undefined;
      } else if (ov.body !== undefined) {
        body = typeof ov.body === 'string' ? ov.body : JSON.stringify(ov.body);
        chunks = undefined;
      }
    }
    // a plain object is ~2× cheaper to hand to Response than Headers.set per header
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec.headers)) {
      const name = k.toLowerCase();
      if (!DROP_RESPONSE_HEADERS.has(name) && isHeaderValue(v)) headers[name] = v;
    }
    if (chunks && headers['content-type'] === undefined) headers['content-type'] = 'text/event-stream';
    if (body !== undefined && !chunks && headers['content-type'] === undefined && x.kind === 'llm')
      headers['content-type'] = 'application/json';
    // a string body would make Response add "text/plain;charset=UTF-8": a response recorded without a content type
    // is replayed without one
    if (typeof body === 'string' && headers['content-type'] === undefined) body = Buffer.from(body, 'utf8');
    const init: ResponseInit =
      rec.statusText !== undefined ? { status, headers, statusText: rec.statusText } : { status, headers };
    if (NULL_BODY_STATUS.has(status)) return known(new Response_(null, init), null);
    if (chunks && turns && !(ov && ov.requestSeq === x.seq)) {
      const stream = timedStream({
        chunks,
        chunkTickets: turns.chunks,
        end: turns.end,
        error: rec.error,
        interrupted: rec.interrupted,
        signal,
        contentType: headers['content-type'],
      });
      return new Response_(stream, init);
    }
    for (const t of turns ? [...turns.chunks, ...(turns.end ? [turns.end] : [])] : []) t.cancel();
    if (chunks) {
      const list = chunks;
      // AWS event-stream chunks are recorded decoded; src/providers frames them again
      const contentType = headers['content-type'];
      const activity = options.activity;
      activity?.begin();
      let ended = false;
      const end = (): void => {
        if (!ended) {
          ended = true;
          activity?.end();
        }
      };
      let cancelled = false;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          try {
            let prev = 0;
            for (const c of list) {
              if (!fast && c.t > prev) await sleep(c.t - prev);
              prev = Math.max(prev, c.t);
              if (cancelled) return;
              const wire = wireChunk(contentType, c.data);
              controller.enqueue(typeof wire === 'string' ? encoder.encode(wire) : wire);
            }
            controller.close();
          } finally {
            end();
          }
        },
        cancel() {
          cancelled = true;
          end();
        },
      });
      return new Response_(stream, init);
    }
    return known(new Response_(body ?? null, init), body ?? null);
  };

  const answer = (x: RecordedExchange, forFetch: boolean, turns?: Turns, signal?: AbortSignal): Response => {
    const rec = x.response;
    if (!rec)
      throw new ReplayMissError(
        `The recording ends before the response to request #${x.index} (event ${x.seq}); nothing to replay it with.`,
      );
    // status 0: the request failed without a response (a network error); an HTTP error status is a response
    if (rec.status === 0) {
      if (!(options.override && options.override.requestSeq === x.seq))
        throw errorFromInfo(rec.error ?? { name: 'TypeError', message: 'fetch failed' });
    }
    const response = buildResponse(x, rec, forFetch, turns, signal);
    if (rec.trailers) trailers.set(response, rec.trailers);
    return response;
  };

  const authorities = new Set<string>();
  for (const x of cache.data.exchanges) {
    try {
      const u = new URL(x.url);
      authorities.add(`${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`);
    } catch {
      // a recorded URL that does not parse names no authority
    }
  }
  const hooks = {
    knowsAuthority(authority: string): boolean {
      return authorities.has(authority);
    },
    misses,
    bodyOf(response: Response): string | Uint8Array | null | undefined {
      return bodies.get(response);
    },
    trailersOf(response: Response): Record<string, string> | undefined {
      return trailers.get(response);
    },
    async respondHttp(req: InterceptedRequest): Promise<Response | undefined> {
      const position = httpPosition++;
      if (forked) return goLive();
      if (stopped) throw stopped;
      const hit = cache.takeExchange(req.requestHash, req.occurrence) ?? cache.takeRedactedMatch(req.normalized);
      if (hit) {
        if (beyondUntil(hit.seq)) {
          if (forked) return goLive();
          throw stopped;
        }
        const turns = turnsOf(hit);
        if (turns) {
          // the answer arrives at its recorded turn; the agent's abort meanwhile rejects like fetch does
          try {
            await awaitTurn(turns.head, req.signal);
          } catch (err) {
            turns.head.cancel();
            for (const t of [...turns.chunks, ...(turns.end ? [turns.end] : [])]) t.cancel();
            throw err;
          }
          return answer(hit, req.transport === 'fetch', turns, req.signal);
        }
        options.activity?.begin();
        try {
          return answer(hit, req.transport === 'fetch');
        } finally {
          options.activity?.end();
        }
      }
      const nearest = cache.nearestExchange(req.normalized);
      const kind = req.endpoint ? 'llm' : 'http';
      // the live request's URL may hold the replay's own credentials: reported (and stored) redacted, like a recording
      const url = redactUrl(req.url);
      const what = `${req.method} ${url}`;
      const miss: ReplayMiss = {
        kind,
        policy: onMiss,
        position,
        request: {
          method: req.method,
          url,
          target: req.normalized.target,
          requestHash: req.requestHash,
          occurrence: req.occurrence,
        },
        diff: nearest?.diff ?? [],
        message: nearest
          ? `Request #${position} (${what}) is not in the recording; nearest recorded request is event ${nearest.exchange.seq} (${nearest.diff.length} difference${nearest.diff.length === 1 ? '' : 's'}${nearest.diff[0] ? `, first at ${nearest.diff[0].path}` : ''}).`
          : `Request #${position} (${what}) is not in the recording, which has no requests at all.`,
      };
      if (nearest)
        miss.nearest = {
          seq: nearest.exchange.seq,
          index: nearest.exchange.index,
          requestHash: nearest.exchange.requestHash,
          occurrence: nearest.exchange.occurrence,
        };
      if (onMiss === 'nearest') {
        const same = cache.exchangeAt(position);
        if (same && !beyondUntil(same.seq)) {
          miss.servedSeq = same.seq;
          misses.push(miss);
          options.report({ type: 'miss', miss });
          return answer(same, req.transport === 'fetch');
        }
      }
      misses.push(miss);
      options.report({ type: 'miss', miss });
      if (onMiss === 'live') return goLive();
      stopped = new ReplayMissError(miss.message);
      throw stopped;
    },

    nextValue(source: NondeterminismSource): number | string | undefined {
      if (forked) return undefined;
      return cache.nextValue(source);
    },

    async respondTool(call: ToolCallInfo): Promise<ToolAnswer> {
      const position = toolPosition++;
      const byName = toolPositions.get(call.tool) ?? 0;
      toolPositions.set(call.tool, byName + 1);
      if (call.pure || forked) return 'run-live';
      if (stopped) return { error: { name: stopped.name, message: stopped.message } };
      const hit =
        cache.takeTool(call.tool, call.argsHash, call.occurrence) ??
        cache.takeRedactedTool(call.tool, redactValue(call.args));
      if (hit) {
        if (beyondUntil(hit.seq))
          return forked
            ? 'run-live'
            : {
                error: {
                  name: 'ReplayStoppedError',
                  message: (stopped as Error | undefined)?.message ?? 'replay stopped',
                },
              };
        if (!hit.answer)
          return {
            error: {
              name: 'ReplayMissError',
              message: `The recording ends before tool ${call.tool} (event ${hit.seq}) answered.`,
            },
          };
        const planned = options.arrivals?.plan.tools.get(hit.index);
        if (planned && options.arrivals) {
          const clock = options.arrivals.clock;
          const [ticket] = clock.expect([{ rank: planned.rank, due: clock.virtualNow + planned.offset }]);
          await ticket?.promise;
        }
        return hit.answer;
      }
      const nearest = cache.nearestTool(call.tool, call.args);
      const miss: ReplayMiss = {
        kind: 'tool',
        policy: onMiss,
        position,
        request: { tool: call.tool, argsHash: call.argsHash, occurrence: call.occurrence },
        diff: nearest?.diff ?? [],
        message: nearest
          ? `Tool call ${call.tool} #${byName} has arguments the recording does not have; nearest recorded call is event ${nearest.call.seq} (${nearest.diff.length} difference${nearest.diff.length === 1 ? '' : 's'}).`
          : `Tool ${call.tool} was never called in the recording.`,
      };
      if (nearest)
        miss.nearest = { seq: nearest.call.seq, index: nearest.call.index, occurrence: nearest.call.occurrence };
      if (onMiss === 'nearest') {
        const same = cache.toolAt(call.tool, byName);
        if (same?.answer && !beyondUntil(same.seq)) {
          miss.servedSeq = same.seq;
          misses.push(miss);
          options.report({ type: 'miss', miss });
          return same.answer;
        }
      }
      misses.push(miss);
      options.report({ type: 'miss', miss });
      if (onMiss === 'live') return 'run-live';
      stopped = new ReplayMissError(miss.message);
      return { error: { name: 'ReplayMissError', message: miss.message } };
    },
  };
  return hooks;
}
