import type { HttpHandler } from 'msw';
import { ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/envelope.js';
import { safeParseStoredEvent } from '../events/validate.js';
import { detectLlmEndpoint, type ProviderBaseUrl, providerBaseUrlsFromEnv } from '../hashing/providers.js';
import {
  type NormalizationOptions,
  normalizeRequest,
  OccurrenceCounter,
  parseBody,
  requestHash,
} from '../hashing/request-key.js';
import { loadOptional } from '../optional-dependencies.js';
import type { InterceptedRequest } from '../recorder/hooks.js';
import { readRequestBody } from '../recorder/http.js';
import { buildReplayCache, providersOf } from '../replay/cache/build.js';
import { ReplayCache } from '../replay/cache/lookup.js';
import { ReplayMissError } from '../replay/errors.js';
import { createReplayHooks, type OnMissPolicy, ON_MISS_POLICIES, type ReplayMiss } from '../replay/hooks.js';
import { openStore } from '../store/open-store.js';
// the NDJSON reader `retrace import` uses: schema and hash chain checked before a single answer is served
import { readTraceFile } from '../transfer/ndjson.js';

/**
 * agent-retrace/msw: a recorded trace as msw request handlers, for a user's own vitest/jest tests (the Polly.js
 * fixture mode). The handlers answer with the replay engine itself — the same request key (src/hashing/request-key.ts),
 * the same cache and occurrence order (src/replay/cache/), the same miss policies and stream re-emission
 * (src/replay/hooks.ts) — so a test served by them sees what `retrace replay` would serve the agent.
 */

/** A trace file written by `retrace export`, the events of a trace, or a trace in a store. */
export type TraceSource = string | URL | readonly StoredEvent[] | { traceId: string; store?: string; tenant?: string };

export interface HandlersFromTraceOptions {
  /**
   * What a request the recording has no answer for gets: 'error' (default) fails it — and every later request, as
   * replay stops at its first miss — with a 500 (not retried by the SDKs) whose error message names the request and
   * the nearest recorded one; 'nearest' serves the recorded answer at the same position; 'live' leaves it to the next
   * handler (or msw's onUnhandledRequest).
   */
  onMiss?: OnMissPolicy;
  /** re-emit streamed (SSE) chunks with their recorded spacing instead of at once (default false: at once) */
  realTiming?: boolean;
  /** request-identity normalization; when given, recorded requests are re-keyed with it (as replayTrace does) */
  normalization?: NormalizationOptions;
  /** more LLM base URLs to recognise (besides those the trace used and OPENAI_BASE_URL / ANTHROPIC_BASE_URL) */
  providers?: ReadonlyArray<string | ProviderBaseUrl>;
  /** which trace of a file holding several (default: the only one) */
  traceId?: string;
}

/** The handlers, plus what they could not answer (a test can assert `misses` is empty). */
export type TraceHandlers = HttpHandler[] & {
  /** every request that was not in the recording, in order, with the diff against the nearest recorded one */
  readonly misses: readonly ReplayMiss[];
  /** how many recorded HTTP exchanges have not been served yet */
  unservedCount(): number;
};

async function eventsOf(source: TraceSource, traceId: string | undefined): Promise<StoredEvent[]> {
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? decodeURIComponent(source.pathname) : source;
    const traces = await readTraceFile(path);
    const picked = traceId !== undefined ? traces.find((t) => t.traceId === traceId) : traces[0];
    if (!picked || (traceId === undefined && traces.length > 1)) {
      throw new ValidationError(
        traceId !== undefined
          ? `${path} holds no trace "${traceId}" (it holds ${traces.map((t) => t.traceId).join(', ')}).`
          : `${path} holds ${traces.length} traces; handlersFromTrace serves one.`,
        `Pass { traceId } naming one of: ${traces.map((t) => t.traceId).join(', ')}.`,
        'traceId',
      );
    }
    return picked.events;
  }
  if (Array.isArray(source)) {
    return (source as readonly unknown[]).map((raw, i) => {
      const parsed = safeParseStoredEvent(raw);
      if (!parsed.ok) {
        throw new ValidationError(
          `Event ${i} of the trace given to handlersFromTrace is not a stored event: ${parsed.field} ${parsed.text}.`,
          'Pass the events exactly as store.read() yields them, or the path of a file written by `retrace export`.',
          parsed.field,
        );
      }
      return parsed.event;
    });
  }
  const ref = source as { traceId: string; store?: string; tenant?: string };
  const store = await openStore(ref.store, { mustExist: true, readOnly: true });
  try {
    const events: StoredEvent[] = [];
    for await (const e of store.read(ref.tenant ?? 'default', ref.traceId)) events.push(e);
    return events;
  } finally {
    await store.close();
  }
}

/**
 * The answer to a request the recording cannot serve: a 500 whose body has the shape OpenAI and Anthropic errors
 * have, so the SDK's error message is the miss (request, nearest recorded request, first difference), and
 * `x-should-retry: false`, which both SDKs honour, so the test fails at once instead of after retries. (A thrown
 * error would reach the test as msw's bodiless 500.)
 */
function missResponse(err: ReplayMissError): Response {
  const body = { type: 'error', error: { type: 'replay_miss', code: err.code, message: err.message } };
  return new Response(JSON.stringify(body), {
    status: 500,
    headers: { 'content-type': 'application/json', 'x-should-retry': 'false', 'x-retrace-replay-miss': err.code },
  });
}

function headersOf(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/**
 * msw request handlers that answer a recorded trace's HTTP requests (LLM calls and plain HTTP alike):
 *
 *   const server = setupServer(...(await handlersFromTrace('test/fixtures/refund.ndjson')));
 *
 * Each call of handlersFromTrace starts from the beginning of the trace; the handlers keep their position across
 * requests (the n-th identical request gets the n-th recorded answer), so create them per test for a fresh start.
 */
export async function handlersFromTrace(
  source: TraceSource,
  options: HandlersFromTraceOptions = {},
): Promise<TraceHandlers> {
  const onMiss = options.onMiss ?? 'error';
  if (!ON_MISS_POLICIES.includes(onMiss)) {
    throw new ValidationError(
      `Unknown miss policy "${String(onMiss)}".`,
      `Use one of: ${ON_MISS_POLICIES.join(', ')}.`,
      'onMiss',
    );
  }
  const { http } = await loadOptional(['msw'], () => import('msw'));
  const events = await eventsOf(source, options.traceId);
  const normalization = options.normalization;
  const cache = new ReplayCache(buildReplayCache(events, normalization ? { normalization } : {}));
  const providers: ProviderBaseUrl[] = [
    ...providersOf(events),
    ...(options.providers ?? []).map((p) =>
      typeof p === 'string' ? { baseUrl: p, provider: 'openai-compatible' as const } : p,
    ),
    ...providerBaseUrlsFromEnv(),
  ];
  const misses: ReplayMiss[] = [];
  const hooks = createReplayHooks({
    cache,
    onMiss,
    fast: options.realTiming !== true,
    report: (notice) => {
      if (notice.type === 'miss') misses.push(notice.miss);
    },
  });
  const occurrences = new OccurrenceCounter();
  // requests are keyed in arrival order (as the recorder counts them), before any body is awaited by another one
  let keying: Promise<unknown> = Promise.resolve();

  const handler = http.all('*', async ({ request }) => {
    const keyed = keying.then(async (): Promise<InterceptedRequest> => {
      const body = await readRequestBody(request);
      const bodyText = body?.text;
      const endpoint = detectLlmEndpoint(request.method, request.url, providers);
      const headers = headersOf(request);
      const normalized = normalizeRequest(
        { method: request.method, url: request.url, headers, ...(bodyText !== undefined ? { body: bodyText } : {}) },
        endpoint,
        normalization,
        parseBody(bodyText),
      );
      const hash = requestHash(normalized);
      return {
        method: request.method,
        url: request.url,
        headers,
        ...(bodyText !== undefined ? { body: bodyText } : {}),
        ...(endpoint ? { endpoint } : {}),
        normalized,
        requestHash: hash,
        occurrence: occurrences.next(hash),
        transport: 'fetch',
      };
    });
    keying = keyed.catch(() => undefined);
    try {
      return await hooks.respondHttp(await keyed);
    } catch (err) {
      if (err instanceof ReplayMissError) return missResponse(err);
      // the recording holds a network error for this request: fail it the same way
      return Response.error();
    }
  });

  const handlers = [handler] as HttpHandler[];
  return Object.assign(handlers, {
    misses,
    unservedCount: () => cache.unservedExchanges().length,
  });
}
