import type { ErrorInfo, Interruption, StreamChunk } from '../../events/payloads.js';
import type { NormalizedRequest } from '../../hashing/request-key.js';
import type { NondeterminismSource } from '../../recorder/hooks.js';

/**
 * The replay caches as plain data (JSON-safe): built in the parent from a stored trace, sent to the sandbox over IPC,
 * and answered from inside the sandbox, so a replayed request never leaves the child process.
 */

export interface RecordedHttpResponse {
  status: number;
  statusText?: string;
  headers: Record<string, string>;
  /** trailing headers sent after the body (HTTP/2 trailers) */
  trailers?: Record<string, string>;
  /** the body as text (or base64 when bodyEncoding is base64); absent for streamed responses */
  body?: string;
  bodyEncoding: 'utf8' | 'base64';
  /** streamed (SSE) responses: the chunks with their time since the response started */
  chunks?: StreamChunk[];
  /** the request failed without a response (network error), or the body ended with this error */
  error?: ErrorInfo;
  /** when the request was issued, ms since the recorded run started (absent in traces recorded before timing) */
  startMs?: number;
  /** request → response headers, ms */
  headersMs?: number;
  /** request → end of the body (or the error), ms */
  latencyMs?: number;
  /** the body ended early: aborted by the agent, or cut by the server */
  interrupted?: Interruption;
}

export interface RecordedExchange {
  /** position among the trace's HTTP-level requests (llm_request and http_request), 0-based */
  index: number;
  /** seq of the request event in the recorded trace */
  seq: number;
  /** seq of the response event, absent when the trace ended before it */
  responseSeq?: number;
  kind: 'llm' | 'http';
  requestHash: string;
  occurrence: number;
  method: string;
  url: string;
  /** what the key was computed from: used to diff a miss against the nearest recorded request */
  normalized: NormalizedRequest;
  stream: boolean;
  response?: RecordedHttpResponse;
}

export type RecordedToolAnswer = { result: unknown } | { error: ErrorInfo };

export interface RecordedToolCall {
  /** position among the trace's tool calls, 0-based */
  index: number;
  seq: number;
  responseSeq?: number;
  tool: string;
  argsHash: string;
  occurrence: number;
  args: unknown;
  pure: boolean;
  answer?: RecordedToolAnswer;
  /** when the tool was called (ms since the run started) and how long it took: the answer's place among the others */
  startMs?: number;
  latencyMs?: number;
}

export interface ReplayCacheData {
  exchanges: RecordedExchange[];
  tools: RecordedToolCall[];
  values: Partial<Record<NondeterminismSource, Array<number | string>>>;
}

export function exchangeKey(requestHash: string, occurrence: number): string {
  return `${requestHash}#${occurrence}`;
}

export function toolKey(tool: string, argsHash: string, occurrence: number): string {
  return `${tool}\u0000${argsHash}#${occurrence}`;
}
