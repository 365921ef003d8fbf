import type { NormalizedRequest } from '../../hashing/request-key.js';
import type { NondeterminismSource } from '../../recorder/hooks.js';
import { diffJson, patchWeight, type PatchOp } from '../../diff/json-diff.js';
import { matchesRedacted } from './redacted-match.js';
import { exchangeKey, toolKey, type RecordedExchange, type RecordedToolCall, type ReplayCacheData } from './types.js';

export interface NearestExchange {
  exchange: RecordedExchange;
  /** recorded normalized request → replayed normalized request */
  diff: PatchOp[];
}

/**
 * The replay cache at serve time (inside the sandbox): O(1) lookups by key, positional access for the `nearest`
 * policy, and the nondeterminism queues. Every recorded answer is served at most once by key.
 */
export class ReplayCache {
  private readonly byKey = new Map<string, RecordedExchange>();
  private readonly toolsByKey = new Map<string, RecordedToolCall>();
  private readonly toolsByName = new Map<string, RecordedToolCall[]>();
  private readonly served = new Set<number>();
  private readonly servedTools = new Set<number>();
  private readonly cursors = new Map<NondeterminismSource, number>();

  constructor(readonly data: ReplayCacheData) {
    for (const x of data.exchanges) this.byKey.set(exchangeKey(x.requestHash, x.occurrence), x);
    for (const t of data.tools) {
      this.toolsByKey.set(toolKey(t.tool, t.argsHash, t.occurrence), t);
      let list = this.toolsByName.get(t.tool);
      if (!list) this.toolsByName.set(t.tool, (list = []));
      list.push(t);
    }
  }

  takeExchange(requestHash: string, occurrence: number): RecordedExchange | undefined {
    const x = this.byKey.get(exchangeKey(requestHash, occurrence));
    if (x) this.served.add(x.index);
    return x;
  }

  /**
   * The first not-yet-served recorded request that equals this one where the recording shows "[REDACTED]" in place of
   * text (src/replay/cache/redacted-match.ts): served when the exact key missed.
   */
  takeRedactedMatch(request: NormalizedRequest): RecordedExchange | undefined {
    for (const x of this.data.exchanges) {
      if (this.served.has(x.index)) continue;
      const n = x.normalized;
      if (n.kind !== request.kind || n.method !== request.method || n.target !== request.target) continue;
      if (matchesRedacted(n, request)) {
        this.served.add(x.index);
        return x;
      }
    }
    return undefined;
  }

  /** Recorded exchanges not served yet (by key or position): what the agent did not ask for. */
  unservedExchanges(): RecordedExchange[] {
    return this.data.exchanges.filter((x) => !this.served.has(x.index));
  }

  /** The recorded exchange at a position (the n-th HTTP-level request of the trace). */
  exchangeAt(position: number): RecordedExchange | undefined {
    const x = this.data.exchanges[position];
    if (x) this.served.add(x.index);
    return x;
  }

  /**
   * The recorded request nearest to a replayed one: same kind, method and target (provider operation, or host+path)
   * first, then the smallest canonical diff; not-yet-served requests win ties.
   */
  nearestExchange(request: NormalizedRequest): NearestExchange | undefined {
    let best: { x: RecordedExchange; diff: PatchOp[]; score: number } | undefined;
    for (const x of this.data.exchanges) {
      const sameTarget =
        x.normalized.kind === request.kind &&
        x.normalized.method === request.method &&
        x.normalized.target === request.target;
      const diff = diffJson(x.normalized, request);
      const score = (sameTarget ? 0 : 1e12) + patchWeight(diff) * 2 + (this.served.has(x.index) ? 1 : 0);
      if (!best || score < best.score) best = { x, diff, score };
    }
    return best ? { exchange: best.x, diff: best.diff } : undefined;
  }

  takeTool(tool: string, argsHash: string, occurrence: number): RecordedToolCall | undefined {
    const t = this.toolsByKey.get(toolKey(tool, argsHash, occurrence));
    if (t) this.servedTools.add(t.index);
    return t;
  }

  /** The first not-yet-served call of this tool whose recorded (redacted) arguments match these, as above. */
  takeRedactedTool(tool: string, args: unknown): RecordedToolCall | undefined {
    const plain = toPlain(args);
    for (const t of this.toolsByName.get(tool) ?? []) {
      if (this.servedTools.has(t.index)) continue;
      if (matchesRedacted(t.args, plain)) {
        this.servedTools.add(t.index);
        return t;
      }
    }
    return undefined;
  }

  /** The n-th recorded call of this tool (the `nearest` policy's "same position"). */
  toolAt(tool: string, position: number): RecordedToolCall | undefined {
    const t = this.toolsByName.get(tool)?.[position];
    if (t) this.servedTools.add(t.index);
    return t;
  }

  nearestTool(tool: string, args: unknown): { call: RecordedToolCall; diff: PatchOp[] } | undefined {
    let best: { call: RecordedToolCall; diff: PatchOp[]; score: number } | undefined;
    const plain = toPlain(args);
    for (const t of this.toolsByName.get(tool) ?? []) {
      const diff = diffJson(t.args, plain);
      const score = patchWeight(diff) * 2 + (this.servedTools.has(t.index) ? 1 : 0);
      if (!best || score < best.score) best = { call: t, diff, score };
    }
    return best ? { call: best.call, diff: best.diff } : undefined;
  }

  nextValue(source: NondeterminismSource): number | string | undefined {
    const queue = this.data.values[source];
    if (!queue) return undefined;
    const i = this.cursors.get(source) ?? 0;
    if (i >= queue.length) return undefined;
    this.cursors.set(source, i + 1);
    return queue[i];
  }

  /** values left unserved per source (a replay that used fewer values than recorded drifted) */
  remainingValues(): Partial<Record<NondeterminismSource, number>> {
    const out: Partial<Record<NondeterminismSource, number>> = {};
    for (const [source, queue] of Object.entries(this.data.values) as Array<[NondeterminismSource, unknown[]]>) {
      const left = queue.length - (this.cursors.get(source) ?? 0);
      if (left > 0) out[source] = left;
    }
    return out;
  }
}

function toPlain(v: unknown): unknown {
  try {
    return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown);
  } catch {
    return String(v);
  }
}
