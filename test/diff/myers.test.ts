import { describe, expect, it } from 'vitest';
import { diffSequences, type Hunk } from '../../src/diff/myers.js';

/** Reference LCS length by dynamic programming, to check the alignment is optimal. */
function lcsLength(a: number[], b: number[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      (dp[i] as number[])[j] =
        a[i - 1] === b[j - 1]
          ? (dp[i - 1] as number[])[j - 1]! + 1
          : Math.max((dp[i - 1] as number[])[j]!, (dp[i] as number[])[j - 1]!);
  return (dp[a.length] as number[])[b.length]!;
}

/** Walks the hunks: everything outside them must be equal pairs; returns the number of matched items. */
function matchedCount(a: number[], b: number[], hunks: Hunk[]): number {
  let i = 0;
  let j = 0;
  let matched = 0;
  for (const h of [...hunks, { aStart: a.length, aEnd: a.length, bStart: b.length, bEnd: b.length }]) {
    expect(h.aStart - i).toBe(h.bStart - j);
    for (; i < h.aStart; i++, j++, matched++) expect(a[i]).toBe(b[j]);
    i = h.aEnd;
    j = h.bEnd;
  }
  return matched;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('diffSequences (Myers)', () => {
  it('finds an optimal alignment on random sequences', () => {
    const r = rng(42);
    for (let round = 0; round < 300; round++) {
      const a = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 4));
      const b = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 4));
      const { hunks, exact } = diffSequences(a, b);
      expect(exact).toBe(true);
      expect(matchedCount(a, b, hunks)).toBe(lcsLength(a, b));
    }
  });

  it('reports one insertion as one hunk, not a shift of everything after it', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [1, 2, 9, 3, 4, 5, 6];
    expect(diffSequences(a, b).hunks).toEqual([{ aStart: 2, aEnd: 2, bStart: 2, bEnd: 3 }]);
  });

  it('handles empty sides and equal sequences', () => {
    expect(diffSequences([], []).hunks).toEqual([]);
    expect(diffSequences([1, 2], [1, 2]).hunks).toEqual([]);
    expect(diffSequences([1, 2], []).hunks).toEqual([{ aStart: 0, aEnd: 2, bStart: 0, bEnd: 0 }]);
    expect(diffSequences([], [3]).hunks).toEqual([{ aStart: 0, aEnd: 0, bStart: 0, bEnd: 1 }]);
  });

  it('falls back to one hunk (exact: false) when the edit distance exceeds the cap', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = Array.from({ length: 100 }, (_, i) => i + 1000);
    const result = diffSequences(a, b, 10);
    expect(result.exact).toBe(false);
    expect(result.hunks).toEqual([{ aStart: 0, aEnd: 100, bStart: 0, bEnd: 100 }]);
  });
});
