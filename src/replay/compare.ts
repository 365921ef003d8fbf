import type { StoredEvent } from '../events/envelope.js';
import { agentValueEvents } from './cache/build.js';
import { jsonDiff, type JsonDiffOp } from './json-diff.js';

/**
 * A minimal structural comparison of an original trace and its replay, the fallback when src/diff (diffTraces) cannot
 * be loaded: events are compared in order by type and payload, ignoring what always differs between two runs.
 *   identical  — equal once identity and timing fields are dropped (eventId, seq, timestamps, hashes, latencies,
 *                durations, stacks, the recording environment, chunk timing);
 *   equivalent — equal once transport details are dropped as well (headers, URLs, the recorded entry, how
 *                nondeterministic values were batched into events);
 *   diverged   — anything else; firstDivergence names the first differing event and field.
 */

export type ReplayVerdict = 'identical' | 'equivalent' | 'diverged';

export interface ReplayDivergence {
  /** position in the compared sequences (nondeterminism events excluded) */
  index: number;
  originalSeq: number | null;
  replaySeq: number | null;
  kind: 'missing' | 'extra' | 'type' | 'payload' | 'values';
  expectedType: string | null;
  actualType: string | null;
  /** JSON Pointer into the payload (payload differences) */
  path?: string;
  expected?: unknown;
  actual?: unknown;
  message: string;
  /** the diff class (prompt drift, missing call …) when src/diff produced the comparison */
  class?: string;
}

export interface CompareResult {
  verdict: ReplayVerdict;
  firstDivergence: ReplayDivergence | null;
}

type Level = 'strict' | 'loose';

function omit(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  return out;
}

function stripChunks(chunks: unknown): unknown {
  return Array.isArray(chunks)
    ? chunks.map((c) => (typeof c === 'object' && c !== null ? omit(c as Record<string, unknown>, ['t']) : c))
    : chunks;
}

function stripTotals(t: unknown): unknown {
  return typeof t === 'object' && t !== null ? omit(t as Record<string, unknown>, ['durationMs']) : t;
}

export function comparablePayload(e: StoredEvent, level: Level): unknown {
  const p = e.payload as Record<string, unknown>;
  const loose = level === 'loose';
  switch (e.type) {
    case 'agent_started':
      return omit(p, ['environment', 'replayOf', 'metadata', 'tags', ...(loose ? ['entry', 'mode'] : [])]);
    case 'llm_request':
    case 'http_request':
      return omit(p, loose ? ['headers', 'url'] : []);
    case 'llm_response':
    case 'http_response': {
      // when it happened (startMs, headersMs) differs between any two runs; the order it happened in is compared
      const o = omit(p, ['latencyMs', 'startMs', 'headersMs', ...(loose ? ['headers'] : [])]);
      if (o.chunks !== undefined) o.chunks = stripChunks(o.chunks);
      if (typeof o.error === 'object' && o.error !== null)
        o.error = omit(o.error as Record<string, unknown>, ['stack']);
      return o;
    }
    case 'tool_response': {
      const o = omit(p, ['latencyMs', 'startMs']);
      if (typeof o.error === 'object' && o.error !== null)
        o.error = omit(o.error as Record<string, unknown>, ['stack']);
      return o;
    }
    case 'agent_completed':
      return { ...p, totals: stripTotals(p.totals) };
    case 'agent_failed':
      return { ...p, error: omit(p.error as Record<string, unknown>, ['stack']), totals: stripTotals(p.totals) };
    default:
      return p;
  }
}

function values(events: readonly StoredEvent[]): Record<string, Array<number | string>> {
  const out: Record<string, Array<number | string>> = {};
  for (const e of agentValueEvents(events)) (out[e.payload.source] ??= []).push(...e.payload.values);
  return out;
}

function compareAt(
  original: readonly StoredEvent[],
  replay: readonly StoredEvent[],
  level: Level,
): ReplayDivergence | null {
  const a = original.filter((e) => e.type !== 'nondeterminism');
  const b = replay.filter((e) => e.type !== 'nondeterminism');
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) {
      return {
        index: i,
        originalSeq: x?.seq ?? null,
        replaySeq: y?.seq ?? null,
        kind: x ? 'missing' : 'extra',
        expectedType: x?.type ?? null,
        actualType: y?.type ?? null,
        message: x
          ? `The replay ends before event ${x.seq} (${x.type}).`
          : `The replay has an extra event ${y!.seq} (${y!.type}).`,
      };
    }
    if (x.type !== y.type) {
      return {
        index: i,
        originalSeq: x.seq,
        replaySeq: y.seq,
        kind: 'type',
        expectedType: x.type,
        actualType: y.type,
        message: `Event ${x.seq} is ${x.type} in the recording but ${y.type} in the replay.`,
      };
    }
    if (level === 'strict' && x.type === 'agent_started') continue; // compared in the loose pass only (entry may be a changed copy)
    const ops: JsonDiffOp[] = jsonDiff(comparablePayload(x, level), comparablePayload(y, level), '', [], 5);
    const op = ops[0];
    if (op) {
      return {
        index: i,
        originalSeq: x.seq,
        replaySeq: y.seq,
        kind: 'payload',
        expectedType: x.type,
        actualType: y.type,
        path: op.path,
        expected: op.from,
        actual: op.value,
        message: `Event ${x.seq} (${x.type}) differs at ${op.path || '(root)'}.`,
      };
    }
  }
  const va = values(original);
  const vb = values(replay);
  const ops = jsonDiff(va, vb, '', [], 5);
  const op = ops[0];
  if (op) {
    return {
      index: n,
      originalSeq: null,
      replaySeq: null,
      kind: 'values',
      expectedType: 'nondeterminism',
      actualType: 'nondeterminism',
      path: op.path,
      expected: op.from,
      actual: op.value,
      message: `The nondeterministic values observed differ at ${op.path}.`,
    };
  }
  return null;
}

export function compareTraces(original: readonly StoredEvent[], replay: readonly StoredEvent[]): CompareResult {
  const loose = compareAt(original, replay, 'loose');
  if (loose) return { verdict: 'diverged', firstDivergence: loose };
  const strict = compareAt(original, replay, 'strict');
  return { verdict: strict ? 'equivalent' : 'identical', firstDivergence: null };
}

/**
 * Compares with src/diff's diffTraces (alignment, policies, classes) when it loads, else with compareTraces above.
 * Returns the verdict, the first divergence in the replay engine's shape, and the full diff report when there is one.
 */
export async function compareReplay(
  original: readonly StoredEvent[],
  replay: readonly StoredEvent[],
): Promise<CompareResult & { report?: unknown }> {
  let diff: typeof import('../diff/index.js') | undefined;
  try {
    diff = await import('../diff/index.js');
  } catch {
    diff = undefined;
  }
  if (!diff || typeof diff.diffTraces !== 'function') return compareTraces(original, replay);
  // the replay may run a changed copy of the agent (--agent): where it came from is not a difference in behaviour
  const report = await diff.diffTraces(original, replay, {
    labels: { a: 'recording', b: 'replay' },
    policy: { types: { agent_started: { ignorePaths: ['payload.entry', 'payload.environment', 'payload.metadata'] } } },
  });
  const f = report.firstDivergence;
  if (!f) return { verdict: report.verdict, firstDivergence: null, report };
  const d = report.differences.find((x) => x.id === f.differenceId) as
    | { change?: string; ops?: Array<{ path: string; value?: unknown; oldValue?: unknown }> }
    | undefined;
  const op = d?.ops?.[0];
  const kind: ReplayDivergence['kind'] =
    d?.change === 'added'
      ? 'extra'
      : d?.change === 'removed'
        ? 'missing'
        : f.a && f.b && f.a.type !== f.b.type
          ? 'type'
          : 'payload';
  return {
    verdict: report.verdict,
    firstDivergence: {
      index: f.a?.index ?? f.b?.index ?? 0,
      originalSeq: f.a?.seq ?? null,
      replaySeq: f.b?.seq ?? null,
      kind,
      expectedType: f.a?.type ?? null,
      actualType: f.b?.type ?? null,
      ...(op ? { path: op.path, expected: op.oldValue, actual: op.value } : {}),
      message: f.sentence,
      class: f.class,
    },
    report,
  };
}
