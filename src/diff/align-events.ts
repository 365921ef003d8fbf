import { EVENT_TYPES, TERMINAL_TYPES, type EventType } from '../events/payloads.js';
import { DEFAULT_MAX_EDITS, diffSequences, type Hunk } from './myers.js';

/** One step of the alignment: a pair of events, an event only in A (removed), only in B (added), or moved. */
export const StepKind = { Pair: 0, Removed: 1, Added: 2, Moved: 3 } as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

/** Parallel arrays (not one object per step): a 100k-event diff keeps only these in memory besides the events. */
export interface Alignment {
  kind: StepKind[];
  /** index into A's compared events, or -1 */
  a: number[];
  /** index into B's compared events, or -1 */
  b: number[];
  exact: boolean;
}

/**
 * What the alignment needs of one side's compared events: their signatures interned to integers (one Interner, myers.ts, for
 * both sides) and their types as codes (typeCode). The events themselves are not needed, so a long
 * trace can be aligned after its payloads were set aside (diff-traces.ts).
 */
export interface AlignInput {
  keys: ArrayLike<number>;
  types: ArrayLike<number>;
}

/** An event type as a small integer, for compact per-event columns; types this build does not know share one code. */
export const UNKNOWN_TYPE_CODE = 255;
const TYPE_CODES = new Map<string, number>(EVENT_TYPES.map((t, i) => [t, i]));
export function typeCode(type: string): number {
  return TYPE_CODES.get(type) ?? UNKNOWN_TYPE_CODE;
}

/**
 * Types whose events are paired inside a change hunk even when their signatures differ: the same step with another
 * model or decision, reported as a change of that step. Tool and HTTP calls are not: calling a different tool is a
 * different step (control flow), not different arguments.
 */
const SUBSTITUTABLE = new Set<EventType>([
  'agent_started',
  'llm_request',
  'llm_response',
  'http_response',
  'decision_made',
  'memory_updated',
]);
const SUBSTITUTABLE_CODE = EVENT_TYPES.map((t) => SUBSTITUTABLE.has(t));
const TERMINAL_CODE = EVENT_TYPES.map((t) => TERMINAL_TYPES.has(t));
/** how far ahead in B a hunk looks for a partner, so a huge hunk stays linear */
const PAIR_WINDOW = 64;

export function alignEvents(a: AlignInput, b: AlignInput, maxEdits = DEFAULT_MAX_EDITS): Alignment {
  const { hunks, exact } = diffSequences(a.keys, b.keys, maxEdits);
  const out: Alignment = { kind: [], a: [], b: [], exact };
  const push = (kind: StepKind, i: number, j: number): void => {
    out.kind.push(kind);
    out.a.push(i);
    out.b.push(j);
  };
  let ia = 0;
  let ib = 0;
  for (const h of hunks) {
    while (ia < h.aStart) push(StepKind.Pair, ia++, ib++);
    pairHunk(h, a, b, push);
    ia = h.aEnd;
    ib = h.bEnd;
  }
  while (ia < a.keys.length) push(StepKind.Pair, ia++, ib++);
  markMoves(out, a.keys, b.keys);
  return out;
}

function pairable(x: number, y: number, sameSignature: boolean): boolean {
  if (sameSignature) return true;
  if (x === y) return SUBSTITUTABLE_CODE[x] === true;
  return TERMINAL_CODE[x] === true && TERMINAL_CODE[y] === true;
}

/** Greedy pairing inside one hunk: each A event takes the next pairable B event within the window. */
function pairHunk(h: Hunk, a: AlignInput, b: AlignInput, push: (kind: StepKind, i: number, j: number) => void): void {
  let j = h.bStart;
  for (let i = h.aStart; i < h.aEnd; i++) {
    let found = -1;
    const stop = Math.min(h.bEnd, j + PAIR_WINDOW);
    for (let y = j; y < stop; y++) {
      if (pairable(a.types[i] as number, b.types[y] as number, a.keys[i] === b.keys[y])) {
        found = y;
        break;
      }
    }
    if (found < 0) {
      push(StepKind.Removed, i, -1);
      continue;
    }
    while (j < found) push(StepKind.Added, -1, j++);
    push(StepKind.Pair, i, found);
    j = found + 1;
  }
  while (j < h.bEnd) push(StepKind.Added, -1, j++);
}

/**
 * An event removed in one place and added elsewhere with the same signature is one reordered call, not a missing
 * and an extra one. The pair is kept at A's position; the added step is dropped.
 */
function markMoves(al: Alignment, keysA: ArrayLike<number>, keysB: ArrayLike<number>): void {
  const added = new Map<number, number[]>();
  for (let s = 0; s < al.kind.length; s++) {
    if (al.kind[s] !== StepKind.Added) continue;
    const key = keysB[al.b[s] as number] as number;
    const list = added.get(key);
    if (list) list.push(s);
    else added.set(key, [s]);
  }
  if (added.size === 0) return;
  const drop = new Set<number>();
  for (let s = 0; s < al.kind.length; s++) {
    if (al.kind[s] !== StepKind.Removed) continue;
    const partner = added.get(keysA[al.a[s] as number] as number)?.shift();
    if (partner === undefined) continue;
    al.kind[s] = StepKind.Moved;
    al.b[s] = al.b[partner] as number;
    drop.add(partner);
  }
  if (drop.size === 0) return;
  const keep = (_: unknown, s: number): boolean => !drop.has(s);
  al.kind = al.kind.filter(keep);
  al.a = al.a.filter(keep);
  al.b = al.b.filter(keep);
}
