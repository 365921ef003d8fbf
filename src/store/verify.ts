import { isRetraceError } from '../errors.js';
import { GENESIS_HASH } from '../events/envelope.js';
import { advanceLifecycle, initialLifecycle, lifecycleStatus, type LifecycleSnapshot } from '../events/lifecycle.js';
import { ChainVerifier } from '../hashing/chain.js';
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
  let lifecycle: LifecycleSnapshot = initialLifecycle();
  let lifecycleBroken = false;
  const chain = new ChainVerifier({ seq: 0, prevHash: GENESIS_HASH });
  try {
    for await (const event of store.read(tenantId, traceId)) {
      for (const broken of chain.check(event)) {
        problems.push(
          broken.rule === 'gap'
            ? { seq: event.seq, rule: 'gap', message: `expected seq ${broken.expectedSeq}, found ${event.seq}` }
            : {
                seq: event.seq,
                rule: 'hash-chain',
                message:
                  broken.rule === 'prev-hash'
                    ? `prevHash does not match the hash of seq ${event.seq - 1}`
                    : 'content does not match its hash (the event was altered)',
              },
        );
      }
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
    events: chain.expectedSeq,
    lifecycle: lifecycleStatus(lifecycle),
    problems,
  };
}
