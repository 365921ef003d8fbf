import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from '../store/types.js';
import { CrossTenantDiffError } from './errors.js';

/** A stored trace: the diff reads it from the store (TraceNotFoundError if it does not exist). */
export interface StoredTraceRef {
  store: EventStore;
  tenantId: string;
  traceId: string;
}

/** Either events already at hand (an array, a generator, `store.read(…)`) or a reference to a stored trace. */
export type TraceSource = AsyncIterable<StoredEvent> | Iterable<StoredEvent> | StoredTraceRef;

export function isStoredTraceRef(source: TraceSource): source is StoredTraceRef {
  return (
    typeof source === 'object' && source !== null && 'store' in source && 'traceId' in source && 'tenantId' in source
  );
}

/** Refuses before reading anything when both sides are stored traces of different tenants. */
export function checkRefsShareTenant(a: TraceSource, b: TraceSource): void {
  if (isStoredTraceRef(a) && isStoredTraceRef(b) && a.tenantId !== b.tenantId)
    throw new CrossTenantDiffError(a.tenantId, b.tenantId);
}

export function eventsOf(source: TraceSource): AsyncIterable<StoredEvent> | Iterable<StoredEvent> {
  return isStoredTraceRef(source) ? source.store.read(source.tenantId, source.traceId) : source;
}

/** Tracks the one tenant all events of a diff must belong to (events given directly carry their own tenantId). */
export class TenantGuard {
  private tenant: string | undefined;
  constructor(expected?: string) {
    this.tenant = expected;
  }
  check(event: StoredEvent): void {
    if (this.tenant === undefined) this.tenant = event.tenantId;
    else if (event.tenantId !== this.tenant) throw new CrossTenantDiffError(this.tenant, event.tenantId);
  }
}
