import type { MessagePort } from 'node:worker_threads';
import {
  ConcurrencyError,
  CorruptEventError,
  DuplicateEventIdError,
  EventTooLargeError,
  InputFileError,
  InvalidIdError,
  LifecycleError,
  NotARetraceStoreError,
  OptionalDependencyMissingError,
  OutputFileError,
  ReadOnlyStoreError,
  StoreCorruptError,
  StoreError,
  TraceNotFoundError,
  TraceTooLargeError,
  UnsupportedStoreUrlError,
  ValidationError,
} from '../errors.js';
import type { NewEvent } from '../events/envelope.js';
import type { AppendOptions, AppendResult } from '../store/types.js';

/**
 * The messages between the recorder's store writer (writer.ts, main thread) and its worker (writer-worker.ts).
 * Requests and replies travel over one MessagePort and are handled strictly in order; a synchronous request (the
 * exit-time flush) is also acknowledged in the shared `state` word, on which the main thread blocks with Atomics.wait.
 */
export interface WriterData {
  /** the embedded store's file */
  path: string;
  /** the worker's end of the request/reply channel */
  port: MessagePort;
  /** one Int32: the id of the last synchronous request the worker has replied to */
  state: SharedArrayBuffer;
}

export interface AppendRequest {
  kind: 'append';
  id: number;
  /** the main thread is blocked waiting: acknowledge in `state` after replying */
  sync: boolean;
  tenantId: string;
  traceId: string;
  events: readonly NewEvent[];
  options?: AppendOptions;
}

export interface CloseRequest {
  kind: 'close';
  id: number;
}

export type WriterRequest = AppendRequest | CloseRequest;

export type WriterReply =
  | { id: number; ok: true; result?: AppendResult }
  | { id: number; ok: false; error: SerializedError };

/** An error as it crosses the thread boundary: structured clone would keep only message and stack, not the class. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** the error's own enumerable properties with primitive values: code, hint, exitCategory, traceId, … */
  props: Record<string, string | number | boolean | null>;
  cause?: SerializedError;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), props: {} };
  const props: SerializedError['props'] = {};
  for (const [key, value] of Object.entries(err)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
      props[key] = value as string | number | boolean | null;
  }
  const cause = (err as { cause?: unknown }).cause;
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    props,
    ...(cause !== undefined && depth < 3 ? { cause: serializeError(cause, depth + 1) } : {}),
  };
}

/** retrace's error classes by name (src/errors.ts), so a revived error is `instanceof` the class the store threw */
const CLASSES: Record<string, { prototype: Error }> = {
  ValidationError,
  InvalidIdError,
  EventTooLargeError,
  TraceTooLargeError,
  LifecycleError,
  ConcurrencyError,
  DuplicateEventIdError,
  TraceNotFoundError,
  StoreError,
  NotARetraceStoreError,
  StoreCorruptError,
  ReadOnlyStoreError,
  UnsupportedStoreUrlError,
  CorruptEventError,
  InputFileError,
  OutputFileError,
  OptionalDependencyMissingError,
  TypeError,
  RangeError,
  SyntaxError,
};

/**
 * The error the worker's store threw, rebuilt on this thread: same class (for retrace's own errors and the built-in
 * ones), message, stack, code, hint and other fields — what a caller of onWriteError or recordingError inspects.
 * The constructor is not re-run (the classes take different arguments); the fields it set are copied instead.
 */
export function reviveError(s: SerializedError): Error {
  const proto = Object.hasOwn(CLASSES, s.name) ? (CLASSES[s.name]?.prototype ?? Error.prototype) : Error.prototype;
  const err = Object.create(proto) as Error;
  const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true });
  Object.defineProperty(err, 'message', hidden(s.message));
  if (s.stack !== undefined) Object.defineProperty(err, 'stack', hidden(s.stack));
  if (s.cause !== undefined) Object.defineProperty(err, 'cause', hidden(reviveError(s.cause)));
  Object.assign(err, s.props);
  if (!Object.hasOwn(s.props, 'name') && proto === Error.prototype && s.name !== 'Error')
    Object.defineProperty(err, 'name', hidden(s.name));
  return err;
}
