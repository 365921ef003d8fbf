import type { NewEvent, StoredEvent } from '../events/envelope.js';

/**
 * The store contract. Every backend (embedded SQLite, KurrentDB, S3 archive) implements this and runs the
 * same contract suite (test/store/contract.ts). Async throughout; append-only: no update, no delete of single events.
 */

/** `no_stream`: the trace must not exist yet; a number: the seq of the trace's last event; `any`: no check. */
export type ExpectedRevision = 'no_stream' | 'any' | number;

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendedPosition {
  eventId: string;
  seq: number;
  /** true when this eventId was already stored in this trace: the append was a no-op for it */
  duplicate: boolean;
}

export interface AppendResult {
  /** seq of the trace's last event after the append: pass it as expectedRevision next time */
  nextExpectedRevision: number;
  positions: AppendedPosition[];
}

export interface ReadRange {
  /** first seq to read, inclusive (default 0) */
  fromSeq?: number;
  /** last seq to read, inclusive (default: the end) */
  toSeq?: number;
}

/**
 * running: started, not ended, writer alive; completed / failed: ended with agent_completed / agent_failed;
 * incomplete: not ended and its writer is gone (crashed or killed) — never silently shown as complete.
 */
export type TraceStatus = 'running' | 'completed' | 'failed' | 'incomplete';

export interface TraceSummary {
  tenantId: string;
  traceId: string;
  agent: string | null;
  status: TraceStatus;
  eventCount: number;
  lastSeq: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** set on replay traces: the trace they re-executed */
  replayOf: string | null;
}

export interface ListFilter {
  agent?: string;
  status?: TraceStatus;
  /** ISO timestamps, inclusive; compared with the trace's start */
  startedAfter?: string;
  startedBefore?: string;
  /** page size (default 50, max 1000) */
  limit?: number;
  /** opaque cursor from the previous page's `nextCursor` */
  cursor?: string;
}

export interface TracePage {
  traces: TraceSummary[];
  /** absent on the last page */
  nextCursor?: string;
}

export interface EventStore {
  /** 'sqlite' | 'kurrentdb' | 's3' */
  readonly kind: string;
  /** where it lives, for messages (never includes credentials) */
  readonly location: string;
  readonly readOnly: boolean;

  append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /**
   * Streams a trace in seq order without loading it whole. Every error (InvalidIdError, TraceNotFoundError,
   * CorruptEventError) surfaces on iteration, never at the call.
   */
  read(tenantId: string, traceId: string, range?: ReadRange): AsyncIterable<StoredEvent>;
  list(tenantId: string, filter?: ListFilter): Promise<TracePage>;
  exists(tenantId: string, traceId: string): Promise<boolean>;
  /**
   * Optional: the tenants that hold traces in this store, for a caller that may see them all (one store file is one
   * trust domain). Used to tell a user whose tenant is empty where the traces are.
   */
  tenants?(): Promise<string[]>;
  /** The summary `list` would show for one trace, or undefined. */
  summary(tenantId: string, traceId: string): Promise<TraceSummary | undefined>;
  /**
   * Removes a whole trace (retention, or `archive --prune` after the archived copy was verified). Never single events.
   * Returns false if there was nothing to delete.
   */
  deleteTrace(tenantId: string, traceId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Size caps (README, "Limits"): exceeding one is a clear error, never a silent truncation. */
export const LIMITS = {
  /** one event's JSON, in bytes: room for a 5 MB tool result, below KurrentDB's 16 MB max append */
  maxEventBytes: 8 * 1024 * 1024,
  /** events in one trace */
  maxTraceEvents: 2_000_000,
  /** events in one append call */
  maxBatchEvents: 100_000,
} as const;
