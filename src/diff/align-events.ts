import type { StoredEvent } from '../events/envelope.js';
import { TERMINAL_TYPES, type EventType } from '../events/payloads.js';
import { DEFAULT_MAX_EDITS, Interner, diffSequences, type Hunk } from './myers.js';
import { signatureOf } from './signature.js';

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
/** how far ahead in B a hunk looks for a partner, so a huge hunk stays linear */
const PAIR_WINDOW = 64;

export function alignEvents(
  a: readonly StoredEvent[],
  b: readonly StoredEvent[],
  maxEdits = DEFAULT_MAX_EDITS,
): Alignment {
  const interner = new Interner();
  const sigA = a.map(signatureOf);
  const sigB = b.map(signatureOf);
  const keysA = Int32Array.from(sigA, (s) => interner.id(s));
  const keysB = Int32Array.from(sigB, (s) => interner.id(s));
  const { hunks, exact } = diffSequences(keysA, keysB, maxEdits);
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
    pairHunk(h, a, b, keysA, keysB, push);
    ia = h.aEnd;
    ib = h.bEnd;
  }
  while (ia < a.length) push(StepKind.Pair, ia++, ib++);
  markMoves(out, keysA, keysB);
  return out;
}

function pairable(x: StoredEvent, y: StoredEvent, sameSignature: boolean): boolean {
  if (sameSignature) return true;
  if (x.type === y.type) return SUBSTITUTABLE.has(x.type);
  return TERMINAL_TYPES.has(x.type) && TERMINAL_TYPES.has(y.type);
}

/** Greedy pairing inside one hunk: each A event takes the next pairable B event within the window. */
function pairHunk(
  h: Hunk,
  a: readonly StoredEvent[],
  b: readonly StoredEvent[],
  keysA: Int32Array,
  keysB: Int32Array,
  push: (kind: StepKind, i: number, j: number) => void,
): void {
  let j = h.bStart;
  for (let i = h.aStart; i < h.aEnd; i++) {
    let found = -1;
    const stop = Math.min(h.bEnd, j + PAIR_WINDOW);
    for (let y = j; y < stop; y++) {
      if (pairable(a[i] as StoredEvent, b[y] as StoredEvent, keysA[i] === keysB[y])) {
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
function markMoves(al: Alignment, keysA: Int32Array, keysB: Int32Array): void {
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
