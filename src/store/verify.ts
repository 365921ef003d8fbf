import { isRetraceError } from '../errors.js';
import { GENESIS_HASH, type StoredEvent } from '../events/envelope.js';
import { advanceLifecycle, initialLifecycle, lifecycleStatus, type LifecycleSnapshot } from '../events/lifecycle.js';
import { eventHash } from '../hashing/chain.js';
import type { EventStore } from './types.js';

export interface VerifyProblem {
  seq: number | null;
  rule: 'schema' | 'hash-chain' | 'gap' | 'lifecycle' | 'read';
  message: string;
}

export interface VerifyResult {
  tenantId: string;
  traceId: string;
  ok: boolean;
  events: number;
  /** 'running' | 'completed' | 'failed' | 'empty' as the lifecycle sees it */
  lifecycle: string;
  problems: VerifyProblem[];
}

/**
 * Checks one stored trace end to end (what `retrace verify` runs): every event passes its schema (the store's read
 * validates), seq is gapless from 0, each event's prevHash is the previous event's hash and its own hash matches its
 * content, and the sequence obeys the lifecycle. Reports problems instead of throwing, so a batch verify goes on.
 */
export async function verifyTrace(store: EventStore, tenantId: string, traceId: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  let expectedSeq = 0;
  let prevHash = GENESIS_HASH;
  let lifecycle: LifecycleSnapshot = initialLifecycle();
  let lifecycleBroken = false;
  try {
    for await (const event of store.read(tenantId, traceId)) {
      if (event.seq !== expectedSeq) {
        problems.push({ seq: event.seq, rule: 'gap', message: `expected seq ${expectedSeq}, found ${event.seq}` });
      }
      expectedSeq = event.seq + 1;
      if (event.prevHash !== prevHash) {
        problems.push({
          seq: event.seq,
          rule: 'hash-chain',
          message: `prevHash does not match the hash of seq ${event.seq - 1}`,
        });
      }
      const recomputed = eventHash(event as unknown as StoredEvent & Record<string, unknown>);
      if (recomputed !== event.hash) {
        problems.push({
          seq: event.seq,
          rule: 'hash-chain',
          message: 'content does not match its hash (the event was altered)',
        });
      }
      prevHash = event.hash;
      if (!lifecycleBroken) {
        try {
          lifecycle = advanceLifecycle(lifecycle, [event]);
        } catch (err) {
          lifecycleBroken = true;
          problems.push({
            seq: event.seq,
            rule: 'lifecycle',
            message: err instanceof Error ? err.message : String(err),
          });
        }
      }
    }
  } catch (err) {
    // an unknown trace or a bad id is the caller's input error, not a problem found in the trace
    if (!isRetraceError(err) || err.code === 'TRACE_NOT_FOUND' || err.code === 'INVALID_ID') throw err;
    const seq = (err as { seq?: unknown }).seq;
    problems.push({
      seq: typeof seq === 'number' ? seq : null,
      rule: err.code === 'CORRUPT_EVENT' ? 'schema' : 'read',
      message: err.message,
    });
  }
  return {
    tenantId,
    traceId,
    ok: problems.length === 0,
    events: expectedSeq,
    lifecycle: lifecycleStatus(lifecycle),
    problems,
  };
}
