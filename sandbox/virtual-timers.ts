import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import timersPromises from 'node:timers/promises';
import type { ArrivalClock, ArrivalTicket } from '../src/replay/arrivals.js';

/**
 * Fast-forwarded timers, so a replay does not wait out the agent's sleeps and backoffs. setTimeout / setInterval keep a virtual clock: a timer is due at
 * virtualNow + delay, timers fire strictly in (due, creation) order, one per macrotask, and the virtual clock jumps
 * to the next due time only when the sandbox is quiescent — no replayed response being produced, no append in flight,
 * and nothing else happened for a full turn of the event loop. So a recorded 30 s backoff costs one loop turn, while a
 * request timeout the SDK arms around a fetch cannot fire before the (instant) replayed response: the response is in
 * flight, so the clock does not move.
 */

export interface Activity {
  begin(): void;
  end(): void;
  /** something happened (an IPC message, a served value): postpone the next clock jump by a loop turn */
  touch(): void;
}

export interface VirtualTimers extends Activity, ArrivalClock {
  readonly virtualNow: number;
  uninstall(): void;
}

export interface VirtualTimersOptions {
  /** release arrivals as soon as it is their turn, without waiting their recorded delay in real time */
  fast?: boolean;
}

/** a recorded arrival in flight (see src/replay/arrivals.ts) */
interface Arrival {
  rank: number;
  due: number;
  resolve(): void;
}

/** how long (real ms, quiescent) an arrival waits for a lower rank whose request the replay never made */
const BLOCKED_LIMIT_MS = 25;

interface Entry {
  id: number;
  due: number;
  order: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  repeat?: number;
  ref: boolean;
  active: boolean;
  handle: VirtualTimeout;
}

class VirtualTimeout {
  constructor(
    readonly entry: Entry,
    private readonly owner: { reschedule(e: Entry): void; cancel(e: Entry): void },
  ) {}
  ref(): this {
    this.entry.ref = true;
    return this;
  }
  unref(): this {
    this.entry.ref = false;
    return this;
  }
  hasRef(): boolean {
    return this.entry.ref;
  }
  refresh(): this {
    this.owner.reschedule(this.entry);
    return this;
  }
  close(): this {
    this.owner.cancel(this.entry);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.entry.id;
  }
}

export function installVirtualTimers(options: VirtualTimersOptions = {}): VirtualTimers {
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const realSetInterval = globalThis.setInterval;
  const realClearInterval = globalThis.clearInterval;
  const realSetImmediate = globalThis.setImmediate;
  const originals = {
    timersSetTimeout: timers.setTimeout,
    timersClearTimeout: timers.clearTimeout,
    timersSetInterval: timers.setInterval,
    timersClearInterval: timers.clearInterval,
    promisesSetTimeout: timersPromises.setTimeout,
    abortSignalTimeout: AbortSignal.timeout,
  };

  let virtualNow = 0;
  let nextId = 1;
  let order = 0;
  let inflight = 0;
  let tick = 0;
  let driving = false;
  const queue: Entry[] = [];
  const byId = new Map<number, Entry>();
  // arrivals: registered (in flight) by rank; `done` holds released, cancelled and given-up ranks below and above `head`
  const arrivals = new Map<number, Arrival>();
  const done = new Set<number>();
  let head = 0;
  let ordered = true;
  let blockedSince: number | undefined;
  /** the arrival whose real-time wait (not --fast) has been served */
  let waited: Arrival | undefined;
  let quietTick = -1;
  // keeps the real event loop alive while ref'ed virtual timers are pending, like real timers would
  let keepAlive: ReturnType<typeof realSetInterval> | undefined;

  const sync = (): void => {
    // an arrival in flight keeps the process alive like the open socket it stands for
    const anyRef = arrivals.size > 0 || queue.some((e) => e.ref);
    if (anyRef && !keepAlive) keepAlive = realSetInterval(() => undefined, 1 << 30);
    else if (!anyRef && keepAlive) {
      realClearInterval(keepAlive);
      keepAlive = undefined;
    }
  };

  const insert = (e: Entry): void => {
    let i = queue.length;
    while (i > 0) {
      const prev = queue[i - 1]!;
      if (prev.due < e.due || (prev.due === e.due && prev.order < e.order)) break;
      i--;
    }
    queue.splice(i, 0, e);
    sync();
    kick();
  };
  const remove = (e: Entry): void => {
    const i = queue.indexOf(e);
    if (i >= 0) queue.splice(i, 1);
    sync();
  };
  const owner = {
    reschedule(e: Entry) {
      remove(e);
      e.due = virtualNow + (e.repeat ?? 0);
      e.order = order++;
      e.active = true;
      insert(e);
    },
    cancel(e: Entry) {
      e.active = false;
      byId.delete(e.id);
      remove(e);
    },
  };

  const schedule = (fn: unknown, delay: unknown, args: unknown[], repeat: boolean): VirtualTimeout => {
    if (typeof fn !== 'function')
      throw Object.assign(new TypeError('The "callback" argument must be of type function'), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    let ms = Number(delay);
    if (!Number.isFinite(ms) || ms < 1) ms = 1;
    ms = Math.floor(ms);
    const e = {
      id: nextId++,
      due: virtualNow + ms,
      order: order++,
      fn: fn as Entry['fn'],
      args,
      ref: true,
      active: true,
    } as Entry;
    if (repeat) e.repeat = ms;
    e.handle = new VirtualTimeout(e, owner);
    byId.set(e.id, e);
    insert(e);
    return e.handle;
  };
  const clear = (handle: unknown): void => {
    if (handle instanceof VirtualTimeout) {
      owner.cancel(handle.entry);
      return;
    }
    if (typeof handle === 'number' || typeof handle === 'string') {
      const e = byId.get(Number(handle));
      if (e) {
        owner.cancel(e);
        return;
      }
    }
    // a real timer created before installation
    realClearTimeout(handle as Parameters<typeof realClearTimeout>[0]);
  };

  function kick(): void {
    if (driving || (queue.length === 0 && arrivals.size === 0)) return;
    driving = true;
    realSetImmediate(() => step(tick));
  }

  const advanceHead = (): void => {
    while (done.has(head)) {
      done.delete(head);
      head++;
    }
  };
  /** the lowest-ranked arrival in flight, and whether a lower rank (not in flight yet) should go first */
  const nextArrival = (): { arrival: Arrival; blocked: boolean } | undefined => {
    let best: Arrival | undefined;
    for (const a of arrivals.values()) if (!best || a.rank < best.rank) best = a;
    if (!best) return undefined;
    return { arrival: best, blocked: ordered && best.rank !== head };
  };
  const release = (a: Arrival): void => {
    arrivals.delete(a.rank);
    done.add(a.rank);
    if (ordered && a.rank > head) for (let r = head; r < a.rank; r++) done.add(r); // given up on
    advanceHead();
    virtualNow = Math.max(virtualNow, a.due);
    waited = undefined;
    blockedSince = undefined;
    sync();
    tick++;
    a.resolve();
  };
  const retry = (): void => {
    driving = true;
    const t = tick;
    realSetImmediate(() => realSetImmediate(() => step(t)));
  };

  /** an arrival is due next: released only when quiescent, in rank order, after its recorded delay */
  function stepArrival(seenTick: number, next: { arrival: Arrival; blocked: boolean }): void {
    if (inflight > 0) {
      driving = true;
      realSetTimeout(() => step(tick), 1);
      return;
    }
    // quiescent = nothing happened since a check at least a full loop turn ago (step's own argument is read when the
    // immediate runs, so it alone does not prove a turn passed)
    if (seenTick !== tick || quietTick !== tick) {
      quietTick = tick;
      retry();
      return;
    }
    const a = next.arrival;
    if (next.blocked) {
      // a lower rank's request has not been made yet: give the agent time to make it (it may be doing real I/O)
      // hrtime: performance.now may be the recorder's (served from the recording) in the agent's async context
      const now = Number(process.hrtime.bigint()) / 1e6;
      blockedSince ??= now;
      if (now - blockedSince < BLOCKED_LIMIT_MS) {
        driving = true;
        realSetTimeout(() => step(tick), 1);
        return;
      }
    }
    const wait = a.due - virtualNow;
    if (!options.fast && wait > 0 && waited !== a) {
      // not --fast: the recorded wait passes in real time too (the agent observes the same thing either way)
      waited = a;
      driving = true;
      realSetTimeout(() => step(tick), wait);
      return;
    }
    release(a);
    kick();
  }

  function step(seenTick: number): void {
    driving = false;
    const next = queue[0];
    const arrival = nextArrival();
    if (arrival && (!next || arrival.arrival.due < next.due)) {
      stepArrival(seenTick, arrival);
      return;
    }
    if (!next) return;
    if (next.due > virtualNow + 1) {
      // the clock must jump (a 0/1 ms timer fires without waiting: it means "soon", not "later"): only when quiescent, and never for unref'ed timers alone
      if (!queue.some((e) => e.ref) && arrivals.size === 0) return;
      if (inflight > 0) {
        driving = true;
        realSetTimeout(() => step(tick), 1);
        return;
      }
      if (seenTick !== tick) {
        driving = true;
        const t = tick;
        realSetImmediate(() => realSetImmediate(() => step(t)));
        return;
      }
    }
    queue.shift();
    virtualNow = Math.max(virtualNow, next.due);
    if (next.repeat !== undefined) {
      next.due = virtualNow + next.repeat;
      next.order = order++;
      insert(next);
    } else {
      next.active = false;
      byId.delete(next.id);
      sync();
    }
    tick++;
    try {
      next.fn(...next.args);
    } finally {
      kick();
    }
  }

  const vSetTimeout = (fn: unknown, delay?: unknown, ...args: unknown[]) => schedule(fn, delay, args, false);
  const vSetInterval = (fn: unknown, delay?: unknown, ...args: unknown[]) => schedule(fn, delay, args, true);
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = vSetTimeout;
  g.setInterval = vSetInterval;
  g.clearTimeout = clear;
  g.clearInterval = clear;
  const t = timers as unknown as Record<string, unknown>;
  t.setTimeout = vSetTimeout;
  t.setInterval = vSetInterval;
  t.clearTimeout = clear;
  t.clearInterval = clear;
  (timersPromises as unknown as Record<string, unknown>).setTimeout = (
    delay?: number,
    value?: unknown,
    opts?: { signal?: AbortSignal },
  ) =>
    new Promise((resolve, reject) => {
      const signal = opts?.signal;
      if (signal?.aborted)
        return reject(
          signal.reason ??
            Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
        );
      const h = schedule(() => resolve(value), delay, [], false);
      signal?.addEventListener(
        'abort',
        () => {
          clear(h);
          reject(
            signal.reason ??
              Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
          );
        },
        { once: true },
      );
    });
  // a request deadline is a timer too: AbortSignal.timeout(ms) aborts when the virtual clock passes ms, so a budget
  // that ran out during a recorded 600 ms wait runs out in the replay at the same point (unref'ed, like Node's own:
  // a pending deadline neither keeps the sandbox alive nor moves the clock by itself)
  const realAbortTimeout = originals.abortSignalTimeout;
  (AbortSignal as unknown as { timeout: (ms: number) => AbortSignal }).timeout = (ms: number) => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return realAbortTimeout.call(AbortSignal, ms);
    const controller = new AbortController();
    const handle = schedule(
      () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      ms,
      [],
      false,
    );
    handle.unref();
    return controller.signal;
  };
  syncBuiltinESMExports();

  return {
    get virtualNow() {
      return virtualNow;
    },
    expect(items) {
      return items.map(({ rank, due }): ArrivalTicket => {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        if (done.has(rank) || rank < head || arrivals.has(rank)) {
          // already given up on (or a duplicate): nothing to wait for
          resolve();
          return { promise, cancel: () => undefined };
        }
        const a: Arrival = { rank, due, resolve };
        arrivals.set(rank, a);
        sync();
        tick++;
        kick();
        return {
          promise,
          cancel() {
            if (arrivals.get(rank) !== a) return;
            arrivals.delete(rank);
            done.add(rank);
            advanceHead();
            sync();
            a.resolve();
            kick();
          },
        };
      });
    },
    releaseAll() {
      ordered = false;
      kick();
    },
    begin() {
      inflight++;
      tick++;
    },
    end() {
      inflight = Math.max(0, inflight - 1);
      tick++;
      kick();
    },
    touch() {
      tick++;
    },
    uninstall() {
      g.setTimeout = realSetTimeout;
      g.setInterval = realSetInterval;
      g.clearTimeout = realClearTimeout;
      g.clearInterval = realClearInterval;
      t.setTimeout = originals.timersSetTimeout;
      t.setInterval = originals.timersSetInterval;
      t.clearTimeout = originals.timersClearTimeout;
      t.clearInterval = originals.timersClearInterval;
      (timersPromises as unknown as Record<string, unknown>).setTimeout = originals.promisesSetTimeout;
      (AbortSignal as unknown as { timeout: unknown }).timeout = originals.abortSignalTimeout;
      if (keepAlive) realClearInterval(keepAlive);
      syncBuiltinESMExports();
    },
  };
}
