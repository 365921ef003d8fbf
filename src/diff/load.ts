import { createHash, type Hash } from 'node:crypto';
import type { StoredEvent } from '../events/envelope.js';
import { canonicalJson } from '../hashing/canonical-json.js';
import { normalizeEvent } from './normalize.js';
import type { ResolvedPolicy } from './policy.js';
import { TotalsAccumulator } from './totals.js';
import { type TenantGuard, eventsOf, isStoredTraceRef, type TraceSource } from './sources.js';
import type { TraceTotals } from './report-schema.js';

/** One side of a diff, read once: the events that take part in the comparison plus what the report says about the run. */
export interface LoadedTrace {
  /** events whose type the policy compares, in trace order */
  events: StoredEvent[];
  /** position of each compared event in the whole trace */
  positions: number[];
  tenantId: string | null;
  traceId: string | null;
  totals: TraceTotals;
  ignoredCount: number;
  /** hash over the ignored events (without identity fields): tells "identical" from "equivalent" for them */
  ignoredDigest: string;
}

export async function loadTrace(source: TraceSource, policy: ResolvedPolicy, guard: TenantGuard): Promise<LoadedTrace> {
  const events: StoredEvent[] = [];
  const positions: number[] = [];
  const totals = new TotalsAccumulator();
  const digest: Hash = createHash('sha256');
  let ignoredCount = 0;
  let position = 0;
  let traceId: string | null = isStoredTraceRef(source) ? source.traceId : null;
  let tenantId: string | null = isStoredTraceRef(source) ? source.tenantId : null;
  const add = (event: StoredEvent): void => {
    guard.check(event);
    traceId ??= event.traceId;
    tenantId ??= event.tenantId;
    totals.add(event);
    const rule = policy.rules.get(event.type);
    if (rule?.mode === 'ignore') {
      ignoredCount++;
      digest.update(canonicalJson(normalizeEvent(event, policy.ignoredEventPaths).doc));
      digest.update('\n');
    } else {
      events.push(event);
      positions.push(position);
    }
    position++;
  };
  const iterable = eventsOf(source);
  // a plain for-of for arrays and generators: for-await would cost a microtask per event
  if (Symbol.asyncIterator in iterable) for await (const event of iterable) add(event);
  else for (const event of iterable) add(event);
  return {
    events,
    positions,
    tenantId,
    traceId,
    totals: totals.result(),
    ignoredCount,
    ignoredDigest: digest.digest('hex'),
  };
}
