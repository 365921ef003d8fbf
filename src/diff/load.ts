import { createHash, type Hash } from 'node:crypto';
import type { StoredEvent } from '../events/envelope.js';
import { canonicalJson } from '../hashing/canonical-json.js';
import { typeCode } from './align-events.js';
import type { Interner } from './myers.js';
import { normalizeEvent } from './normalize.js';
import type { ResolvedPolicy } from './policy.js';
import type { TraceTotals } from './report-schema.js';
import { signatureOf } from './signature.js';
import { type TenantGuard, eventsOf, isStoredTraceRef, type TraceSource } from './sources.js';
import { ArrayStash, StreamStash, type EventStash } from './stash.js';
import { TotalsAccumulator } from './totals.js';

/** A growable Int32 column: one number per compared event without a JS value per entry. */
export class IntColumn {
  private data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i] as number;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * One side of a diff, read once as a stream: what the alignment needs of every compared event (interned signature,
 * type code, position in the trace) plus what the report says about the run. The events themselves go to a stash
 * (stash.ts) that the caller tells what to keep.
 */
export class TraceReader {
  readonly stash: EventStash;
  readonly keys = new IntColumn();
  readonly types = new IntColumn();
  /** position of each compared event in the whole trace */
  readonly positions = new IntColumn();
  tenantId: string | null;
  traceId: string | null;
  ignoredCount = 0;
  /** true for arrays and other synchronous iterables: `nextSync` may be used, with no microtask per event */
  readonly sync: boolean;
  private readonly totalsAcc = new TotalsAccumulator();
  private readonly digest: Hash = createHash('sha256');
  private digestHex: string | undefined;
  private position = 0;
  private readonly syncIt: Iterator<StoredEvent> | undefined;
  private readonly asyncIt: AsyncIterator<StoredEvent> | undefined;
  private done = false;

  constructor(
    source: TraceSource,
    private readonly policy: ResolvedPolicy,
    private readonly guard: TenantGuard,
    private readonly interner: Interner,
  ) {
    this.traceId = isStoredTraceRef(source) ? source.traceId : null;
    this.tenantId = isStoredTraceRef(source) ? source.tenantId : null;
    this.stash = Array.isArray(source) ? new ArrayStash() : new StreamStash();
    const iterable = eventsOf(source);
    this.sync = !(Symbol.asyncIterator in iterable);
    if (Symbol.asyncIterator in iterable) this.asyncIt = iterable[Symbol.asyncIterator]();
    else this.syncIt = iterable[Symbol.iterator]();
  }

  /** compared events read so far */
  get count(): number {
    return this.keys.length;
  }

  /** The next compared event (ignored types are digested on the way), or undefined at the end. */
  nextSync(): StoredEvent | undefined {
    const it = this.syncIt;
    if (!it) throw new Error('diff: nextSync on an asynchronous source');
    while (!this.done) {
      const r = it.next();
      if (r.done) this.done = true;
      else if (this.accept(r.value)) return r.value;
    }
    return undefined;
  }

  async next(): Promise<StoredEvent | undefined> {
    if (this.sync) return this.nextSync();
    const it = this.asyncIt as AsyncIterator<StoredEvent>;
    while (!this.done) {
      const r = await it.next();
      if (r.done) this.done = true;
      else if (this.accept(r.value)) return r.value;
    }
    return undefined;
  }

  /** Stops reading early (an error on the other side): lets a store read release what it holds. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.syncIt) this.syncIt.return?.();
    else await this.asyncIt?.return?.();
  }

  totals(): TraceTotals {
    return this.totalsAcc.result();
  }

  /** hash over the ignored events (without identity fields): tells "identical" from "equivalent" for them */
  ignoredDigest(): string {
    this.digestHex ??= this.digest.digest('hex');
    return this.digestHex;
  }

  /** Records one event; true if its type is compared. */
  private accept(event: StoredEvent): boolean {
    this.guard.check(event);
    this.traceId ??= event.traceId;
    this.tenantId ??= event.tenantId;
    this.totalsAcc.add(event);
    const position = this.position++;
    if (this.policy.rules.get(event.type)?.mode === 'ignore') {
      this.ignoredCount++;
      this.digest.update(canonicalJson(normalizeEvent(event, this.policy.ignoredEventPaths).doc));
      this.digest.update('\n');
      return false;
    }
    this.keys.push(this.interner.id(signatureOf(event)));
    this.types.push(typeCode(event.type));
    this.positions.push(position);
    return true;
  }
}
