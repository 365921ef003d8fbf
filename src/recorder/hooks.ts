import type { ErrorInfo } from '../events/payloads.js';
import type { NewEvent } from '../events/envelope.js';
import type { LlmEndpoint } from '../hashing/providers.js';
import type { NormalizedRequest } from '../hashing/request-key.js';
import type { AppendOptions, AppendResult } from '../store/types.js';

/**
 * The seams between the recorder and the replay engine. The recorder always records; in a replay sandbox the
 * engine installs ReplayHooks so that the *same* capture code answers HTTP requests, nondeterministic values and tool
 * calls from the recording instead of the real world — one interception path, recorded the same way in both modes,
 * which is what makes original and replay traces comparable event by event.
 */

/** Where recorded events go: an EventStore in-process, or an IPC channel to the parent from inside the sandbox. */
export interface EventSink {
  append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
}

export type NondeterminismSource =
  | 'Date.now'
  | 'Date'
  | 'performance.now'
  | 'Math.random'
  | 'crypto.randomUUID'
  | 'crypto.getRandomValues'
  /** environment variables: recorded, but served by name through the sandbox env, never by nextValue */
  | 'env';

export interface InterceptedRequest {
  method: string;
  url: string;
  /** lower-cased header names, unredacted (never persisted from here) */
  headers: Record<string, string>;
  body?: string;
  /** set when the request is to a recognised LLM endpoint */
  endpoint?: LlmEndpoint;
  normalized: NormalizedRequest;
  requestHash: string;
  occurrence: number;
  /** which capture path asked: global fetch, or node:http(s) through msw's interceptor */
  transport?: 'fetch' | 'http' | 'http2';
  /** the caller's AbortSignal: a replayed answer ends the way fetch does when it aborts */
  signal?: AbortSignal;
}

export interface ToolCallInfo {
  tool: string;
  args: unknown;
  argsHash: string;
  occurrence: number;
  pure: boolean;
}

export type ToolAnswer = { result: unknown } | { error: ErrorInfo } | 'run-live';

export interface ReplayHooks {
  /**
   * Answers an intercepted request with the recorded response (streams re-emitted chunk by chunk), or throws
   * to make the request fail like a network error would. Return undefined to let it reach the network (live policy).
   */
  respondHttp(request: InterceptedRequest): Promise<Response | undefined>;
  /**
   * Optional: whether the recording holds any request to this authority ("host:port"). An HTTP/2 session to an
   * authority it never called is not simulated: it goes to the wrapped connect (in the sandbox, the network guard).
   */
  knowsAuthority?(authority: string): boolean;
  /**
   * Optional: the complete body (text, or bytes) of a non-streamed Response that respondHttp returned (null when it has no
   * body), so the fetch wrapper records the response from it instead of teeing and reading a clone. undefined for
   * streamed responses and responses these hooks did not build (they are read from a clone, as in record mode).
   */
  bodyOf?(response: Response): string | Uint8Array | null | undefined;
  /**
   * Optional: the trailing headers recorded after the body of a Response that respondHttp returned (HTTP/2 trailers),
   * which a web Response cannot carry; undefined when the recording has none.
   */
  trailersOf?(response: Response): Record<string, string> | undefined;
  /** The next recorded value of a nondeterministic source, or undefined when the recording has no more. */
  nextValue(source: NondeterminismSource): number | string | undefined;
  /** The recorded outcome of a tool call, or 'run-live' for pure tools and live continuation. */
  respondTool(call: ToolCallInfo): Promise<ToolAnswer>;
}
