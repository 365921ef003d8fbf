import { ConcurrencyError, EventTooLargeError, RetraceError, StoreError, TraceNotFoundError } from '../../errors.js';
import { describeStreamState } from './naming.js';

/**
 * The one place where KurrentDB client errors become ours (callers never see `@kurrent/*` types). The client's error
 * classes carry a string `type` (its ErrorType enum); we switch on that rather than on `instanceof`, so a second copy
 * of the client in node_modules (or a plain object in a unit test) translates the same way.
 */
export interface KurrentErrorContext {
  /** where the store is, for messages (no credentials) */
  location: string;
  tenantId?: string;
  traceId?: string;
  /** revision of the trace's seq 0, to report ConcurrencyError in seqs rather than revisions */
  base?: bigint;
}

const CONNECTION_TYPES = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'cancelled']);

function typeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const t = (err as { type?: unknown }).type;
  return typeof t === 'string' ? t : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function translateKurrentError(err: unknown, ctx: KurrentErrorContext): unknown {
  if (err instanceof RetraceError) return err;
  const type = typeOf(err);
  const traceId = ctx.traceId ?? '?';
  switch (type) {
    case 'wrong-expected-version': {
      const e = err as { expectedState?: unknown; actualState?: unknown };
      const base = ctx.base ?? 0n;
      return new ConcurrencyError(
        traceId,
        describeStreamState(e.expectedState, base),
        describeStreamState(e.actualState, base),
      );
    }
    case 'stream-not-found':
    case 'no-stream':
    case 'stream-deleted':
    case 'stream-tombstoned':
      return new TraceNotFoundError(ctx.tenantId ?? '?', traceId);
    case 'maximum-append-size-exceeded':
    case 'append-record-size-exceeded':
    case 'transaction-max-size-exceeded':
      return new EventTooLargeError(
        `KurrentDB at ${ctx.location} refused an append to trace "${traceId}" as too large (${messageOf(err)}).`,
        "Raise the server's MaxAppendSize (up to 16 MB) and pass the same value as ?maxAppendSize= in the store URL, or record smaller events.",
        'payload',
        { cause: err },
      );
    case 'access-denied':
      return new StoreError(
        `KurrentDB at ${ctx.location} denied access (${messageOf(err)}).`,
        'Put a user with read/write rights in the connection string (kurrentdb://user:pass@host:2113), or check the stream ACLs.',
        { cause: err },
      );
    case 'not-leader':
      return new StoreError(
        `The KurrentDB node at ${ctx.location} is not the cluster leader.`,
        'Add ?nodePreference=leader to the store URL, or list all cluster nodes (kurrentdb://a:2113,b:2113,c:2113).',
        { cause: err },
      );
    default:
      break;
  }
  if (type !== undefined && CONNECTION_TYPES.has(type)) {
    return new StoreError(
      `Cannot reach KurrentDB at ${ctx.location} (${type}: ${messageOf(err)}).`,
      'Check that the server is running and reachable; for a local insecure node use kurrentdb://localhost:2113?tls=false. See docs/scale-out.md.',
      { cause: err },
    );
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return new StoreError(
      `Cannot reach KurrentDB at ${ctx.location} (${String(code)}).`,
      'Check that the server is running and reachable; for a local insecure node use kurrentdb://localhost:2113?tls=false.',
      { cause: err },
    );
  }
  // anything else from the client is still a store problem, not a bug in the caller
  if (type !== undefined) {
    return new StoreError(
      `KurrentDB at ${ctx.location} failed (${type}): ${messageOf(err)}`,
      'Retry; if it persists, check the server log.',
      {
        cause: err,
      },
    );
  }
  return err;
}

/** True for the client's WrongExpectedVersionError (without importing the client). */
export function isWrongExpectedVersion(err: unknown): err is { actualState?: unknown; expectedState?: unknown } {
  return typeOf(err) === 'wrong-expected-version';
}

export function isStreamNotFound(err: unknown): boolean {
  const t = typeOf(err);
  return t === 'stream-not-found' || t === 'no-stream' || t === 'stream-deleted';
}
