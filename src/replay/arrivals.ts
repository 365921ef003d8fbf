import type { ReplayCacheData } from './cache/types.js';

/**
 * The order in which things reached the agent in the recorded run: each response's headers, each streamed chunk,
 * the end (or cut) of each stream, each tool answer — ranked by when it happened (ms since the run started). A
 * replay releases them in this rank order, each after its recorded delay on the virtual clock, so concurrent
 * requests complete in the order they completed when recorded, not the order they were issued.
 *
 * Only recordings with timing (startMs on responses) are ranked; older traces replay as before (issue order).
 */

export interface PlannedArrival {
  /** position in the recorded order of all arrivals */
  rank: number;
  /** ms after the request was issued (or the tool was called) */
  offset: number;
}

export interface ExchangeArrivals {
  /** the response (headers; the whole body when not streamed), or the network error */
  head: PlannedArrival;
  /** one per recorded chunk */
  chunks: PlannedArrival[];
  /** streams only: the end of the body, or the point where it was aborted or cut */
  end?: PlannedArrival;
}

export interface ArrivalPlan {
  /** how many ranks there are (0 … size-1) */
  size: number;
  /** by exchange index */
  exchanges: Map<number, ExchangeArrivals>;
  /** by tool call index */
  tools: Map<number, PlannedArrival>;
}

interface Draft {
  at: number;
  /** tie-breakers: the recorded seq of the request, then the position within it */
  seq: number;
  sub: number;
  target: PlannedArrival;
}

export function planArrivals(data: ReplayCacheData): ArrivalPlan {
  const drafts: Draft[] = [];
  const exchanges = new Map<number, ExchangeArrivals>();
  const tools = new Map<number, PlannedArrival>();
  const add = (start: number, offset: number, seq: number, sub: number): PlannedArrival => {
    const target: PlannedArrival = { rank: -1, offset: Math.max(0, offset) };
    drafts.push({ at: start + target.offset, seq, sub, target });
    return target;
  };
  for (const x of data.exchanges) {
    const r = x.response;
    if (r?.startMs === undefined) continue;
    const latency = r.latencyMs ?? 0;
    if (r.status === 0) {
      exchanges.set(x.index, { head: add(r.startMs, latency, x.seq, 0), chunks: [] });
      continue;
    }
    const headers = r.headersMs ?? latency;
    const entry: ExchangeArrivals = { head: add(r.startMs, headers, x.seq, 0), chunks: [] };
    if (r.chunks) {
      let prev = headers;
      r.chunks.forEach((c, k) => {
        prev = Math.max(prev, headers + c.t);
        entry.chunks.push(add(r.startMs as number, prev, x.seq, k + 1));
      });
      entry.end = add(r.startMs, Math.max(prev, latency), x.seq, r.chunks.length + 1);
    }
    exchanges.set(x.index, entry);
  }
  for (const t of data.tools) {
    // a pure tool runs for real in replay: its answer comes when it comes, it takes no place in the order
    if (t.startMs === undefined || t.pure || !t.answer) continue;
    tools.set(t.index, add(t.startMs, t.latencyMs ?? 0, t.seq, 0));
  }
  drafts.sort((a, b) => a.at - b.at || a.seq - b.seq || a.sub - b.sub);
  drafts.forEach((d, i) => {
    d.target.rank = i;
  });
  return { size: drafts.length, exchanges, tools };
}

/** What the replay hooks need from the sandbox's virtual clock to release an arrival at its turn. */
export interface ArrivalClock {
  /** the virtual time now (ms) */
  readonly virtualNow: number;
  /**
   * Announces arrivals now in flight (their requests were issued): each resolves when the virtual clock has reached
   * `due` and every lower rank was released (or given up on).
   */
  expect(items: ReadonlyArray<{ rank: number; due: number }>): ArrivalTicket[];
  /** the replay went live: stop holding arrivals for ranks that will never come */
  releaseAll(): void;
}

export interface ArrivalTicket {
  readonly promise: Promise<void>;
  /** not needed any more (the agent aborted, the stream was cancelled): stop holding later ranks for it */
  cancel(): void;
}
