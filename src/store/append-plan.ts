import { EventTooLargeError, TraceTooLargeError, ValidationError, ConcurrencyError } from '../errors.js';
import {
  GENESIS_HASH,
  SCHEMA_VERSION,
  type NewEvent,
  type ParsedNewEvent,
  type StoredEvent,
} from '../events/envelope.js';
import { assertTenantId, assertTraceId } from '../events/ids.js';
import { advanceLifecycle, initialLifecycle, lifecycleStatus, type LifecycleSnapshot } from '../events/lifecycle.js';
import { parseNewEvent } from '../events/validate.js';
import { envelopeObject, sealEnvelope } from '../hashing/chain.js';
import { LIMITS, type ExpectedRevision } from './types.js';

/**
 * Backend-neutral append logic: validation, expected-revision check, lifecycle, seq assignment, hash chain and the
 * per-trace aggregates `list` shows. Backends only load a TraceState, call planAppend, and write the result atomically.
 */
export interface TraceState {
  lastSeq: number; // -1 before the first event
  lastHash: string;
  eventCount: number;
  totalBytes: number;
  lifecycle: LifecycleSnapshot;
  agent: string | null;
  startedAt: string | null;
  endedAt: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  replayOf: string | null;
}

export function emptyTraceState(): TraceState {
  return {
    lastSeq: -1,
    lastHash: GENESIS_HASH,
    eventCount: 0,
    totalBytes: 0,
    lifecycle: initialLifecycle(),
    agent: null,
    startedAt: null,
    endedAt: null,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    replayOf: null,
  };
}

export function statusOf(state: TraceState): 'running' | 'completed' | 'failed' {
  const s = lifecycleStatus(state.lifecycle);
  return s === 'empty' ? 'running' : s;
}

/** Checks ids and every event's schema before anything is written; the batch is all-or-nothing. */
export function validateBatch(tenantId: unknown, traceId: unknown, events: readonly NewEvent[]): ParsedNewEvent[] {
  assertTenantId(tenantId);
  assertTraceId(traceId);
  if (!Array.isArray(events)) {
    throw new ValidationError(
      'append() takes an array of events.',
      'Pass the events of one trace as an array.',
      'events',
    );
  }
  if (events.length > LIMITS.maxBatchEvents) {
    throw new ValidationError(
      `A batch of ${events.length} events is over the limit of ${LIMITS.maxBatchEvents}.`,
      "Split the append into smaller batches, passing each batch's nextExpectedRevision to the next.",
      'events',
    );
  }
  const parsed = events.map((e, i) => parseNewEvent(e, i));
  const seen = new Set<string>();
  for (const [i, e] of parsed.entries()) {
    const key = e.eventId.toLowerCase();
    if (seen.has(key)) {
      throw new ValidationError(
        `Event #${i} repeats eventId ${e.eventId} within one batch. Nothing from this batch was written.`,
        'Every event needs its own eventId.',
        'eventId',
      );
    }
    seen.add(key);
  }
  return parsed;
}

export function describeRevision(state: TraceState | undefined): string {
  return state && state.lastSeq >= 0 ? String(state.lastSeq) : 'no_stream';
}

export function checkExpectedRevision(
  traceId: string,
  state: TraceState | undefined,
  expected: ExpectedRevision,
): void {
  if (expected === 'any') return;
  const actual = state && state.lastSeq >= 0 ? state.lastSeq : 'no_stream';
  if (expected !== actual) throw new ConcurrencyError(traceId, String(expected), String(actual));
}

export interface PlannedEvent {
  event: StoredEvent;
  json: string;
}

/**
 * Turns validated new events into stored events continuing `state` (which it does not modify) and returns the state
 * after them. Throws LifecycleError / EventTooLargeError / TraceTooLargeError before anything could be written.
 */
export function planAppend(
  tenantId: string,
  traceId: string,
  state: TraceState,
  events: readonly ParsedNewEvent[],
  limits: { maxEventBytes: number; maxTraceEvents: number } = LIMITS,
): { planned: PlannedEvent[]; next: TraceState } {
  const lifecycle = advanceLifecycle(state.lifecycle, events);
  if (state.eventCount + events.length > limits.maxTraceEvents) {
    throw new TraceTooLargeError(
      `Trace "${traceId}" would hold ${state.eventCount + events.length} events, over the limit of ${limits.maxTraceEvents}.`,
      'Split the run into several traces (one per task), or archive and start a new trace.',
      'events',
    );
  }
  const next: TraceState = { ...state, lifecycle };
  const planned: PlannedEvent[] = [];
  let prevHash = state.lastHash;
  let seq = state.lastSeq;
  for (const [i, e] of events.entries()) {
    seq += 1;
    const envelope = {
      schemaVersion: SCHEMA_VERSION,
      eventId: e.eventId,
      tenantId,
      traceId,
      seq,
      type: e.type,
      timestamp: e.timestamp,
      parentEventId: e.parentEventId,
      spanId: e.spanId,
      prevHash,
    };
    // the same hash and JSON as sealEvent over the stored object (test/hashing/seal.test.ts), without building it twice
    const { hash, json } = sealEnvelope(envelope, e.payload);
    const event = envelopeObject(envelope, e.payload) as unknown as StoredEvent;
    (event as { hash: string }).hash = hash;
    const bytes = Buffer.byteLength(json);
    if (bytes > limits.maxEventBytes) {
      throw new EventTooLargeError(
        `Event #${i} (${e.type}, ${e.eventId}) is ${bytes} bytes, over the per-event limit of ${limits.maxEventBytes} bytes. Nothing from this batch was written.`,
        'Store large blobs elsewhere and record a reference, or raise maxEventBytes when opening the store.',
        'payload',
      );
    }
    planned.push({ event, json });
    prevHash = hash;
    next.totalBytes += bytes;
    accumulate(next, event);
  }
  next.lastSeq = seq;
  next.lastHash = prevHash;
  next.eventCount = state.eventCount + events.length;
  return { planned, next };
}

function accumulate(state: TraceState, event: StoredEvent): void {
  switch (event.type) {
    case 'agent_started':
      state.agent = event.payload.agent;
      state.startedAt = event.timestamp;
      state.replayOf = event.payload.replayOf?.traceId ?? null;
      break;
    case 'llm_response':
      state.inputTokens += event.payload.usage?.inputTokens ?? 0;
      state.outputTokens += event.payload.usage?.outputTokens ?? 0;
      state.costUsd += event.payload.costUsd ?? 0;
      break;
    case 'agent_completed':
    case 'agent_failed':
      state.endedAt = event.timestamp;
      break;
    default:
      break;
  }
}
