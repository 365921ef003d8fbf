/**
 * Sequence alignment (Myers 1986, "An O(ND) difference algorithm"). Used twice: for the event sequences of two traces
 * (keyed by signature) and for long arrays inside payloads (keyed by element content), so that one inserted item is
 * one insertion instead of every later index changing.
 *
 * Runs of equal items at both ends are trimmed first, so two traces that differ in a few places cost O(N) for the
 * trim plus O((N+M)·D) for the middle. D is capped: beyond `maxEdits` the middle becomes one change hunk and the
 * caller pairs it up positionally (reported as a degraded alignment, never a silent wrong answer).
 */

/** A maximal run of changes: items [aStart, aEnd) of A were replaced by items [bStart, bEnd) of B (either may be empty). */
export interface Hunk {
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

export interface SequenceDiff {
  hunks: Hunk[];
  /** false when the edit distance exceeded the cap and the middle was reported as one hunk */
  exact: boolean;
}

/** Keys are compared with ===; callers intern strings to small integers for speed. */
export type Keys = ArrayLike<number> | ArrayLike<string>;

export const DEFAULT_MAX_EDITS = 2000;

export function diffSequences(a: Keys, b: Keys, maxEdits = DEFAULT_MAX_EDITS): SequenceDiff {
  const n = a.length;
  const m = b.length;
  let start = 0;
  while (start < n && start < m && a[start] === b[start]) start++;
  let endA = n;
  let endB = m;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  if (start === endA && start === endB) return { hunks: [], exact: true };
  if (start === endA || start === endB) {
    return { hunks: [{ aStart: start, aEnd: endA, bStart: start, bEnd: endB }], exact: true };
  }
  const matches = middleMatches(a, b, start, endA, start, endB, maxEdits);
  if (matches === null) return { hunks: [{ aStart: start, aEnd: endA, bStart: start, bEnd: endB }], exact: false };
  return { hunks: hunksFromMatches(matches, start, endA, start, endB), exact: true };
}

/** Turns the matched index pairs (ascending) of the range into the change hunks between them. */
function hunksFromMatches(matches: Int32Array, a0: number, a1: number, b0: number, b1: number): Hunk[] {
  const hunks: Hunk[] = [];
  let i = a0;
  let j = b0;
  for (let t = 0; t < matches.length; t += 2) {
    const mi = matches[t] as number;
    const mj = matches[t + 1] as number;
    if (mi > i || mj > j) hunks.push({ aStart: i, aEnd: mi, bStart: j, bEnd: mj });
    i = mi + 1;
    j = mj + 1;
  }
  if (i < a1 || j < b1) hunks.push({ aStart: i, aEnd: a1, bStart: j, bEnd: b1 });
  return hunks;
}

/**
 * Greedy forward Myers with one V snapshot per edit step (memory O(D²) ints, bounded by the cap).
 * Returns matched pairs flattened as [i0, j0, i1, j1, …] in ascending order, or null if D exceeds maxEdits.
 */
function middleMatches(
  a: Keys,
  b: Keys,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  maxEdits: number,
): Int32Array | null {
  const n = a1 - a0;
  const m = b1 - b0;
  const limit = Math.min(n + m, maxEdits);
  const off = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  v[off + 1] = 0;
  const trace: Int32Array[] = [];
  let found = -1;
  outer: for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[off + k - 1] as number) < (v[off + k + 1] as number)))
        x = v[off + k + 1] as number;
      else x = (v[off + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(off - d, off + d + 1));
        found = d;
        break outer;
      }
    }
    trace.push(v.slice(off - d, off + d + 1));
  }
  if (found < 0) return null;

  // Walk back from (n, m): each step d came from diagonal k±1 of step d-1, followed by a snake of matches.
  const pairs: number[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d - 1] as Int32Array;
    const at = (k: number): number => prev[k + d - 1] as number;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      pairs.push(y, x);
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    pairs.push(y, x);
  }
  // pairs were collected backwards as (j, i); reverse into ascending (i, j) with absolute indices
  const out = new Int32Array(pairs.length);
  for (let t = 0, s = pairs.length - 2; s >= 0; s -= 2, t += 2) {
    out[t] = (pairs[s + 1] as number) + a0;
    out[t + 1] = (pairs[s] as number) + b0;
  }
  return out;
}

/** Maps strings to small integers so the alignment compares numbers, not strings. */
export class Interner {
  private readonly ids = new Map<string, number>();
  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
    }
    return id;
  }
}
