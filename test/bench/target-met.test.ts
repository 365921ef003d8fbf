import { describe, expect, it } from 'vitest';
import { targetMet } from '../../bench/table.js';

/** The "met" column of `npm run bench` is read from each row's target text; a wrong reading would misreport a target. */
describe('bench target reading', () => {
  it('compares ratios for × targets and values for unit targets', () => {
    expect(targetMet({ name: 'x', value: 74, unit: 'ms', ratio: 1.4, target: '≤ 2.5×' })).toBe(true);
    expect(targetMet({ name: 'x', value: 606, unit: 'ms', ratio: 2.83, target: '≤ 1.2×' })).toBe(false);
    expect(targetMet({ name: 'x', value: 0.21, unit: '×', target: '≤ 0.25×' })).toBe(true);
    expect(targetMet({ name: 'x', value: 0.3, unit: '×', target: '≤ 0.25×' })).toBe(false);
    expect(targetMet({ name: 'x', value: 316, unit: 'MB', target: '≤ 256 MB' })).toBe(false);
    expect(targetMet({ name: 'x', value: 0.4, unit: 'ms', target: '≤ 1 ms' })).toBe(true);
    expect(targetMet({ name: 'x', value: 0.7, unit: 'ms', ratio: 0.6, target: '≥ 0.5×' })).toBe(true);
    expect(targetMet({ name: 'x', value: 0.7, unit: 'ms', ratio: 0.4, target: '≥ 0.5×' })).toBe(false);
  });

  it('needs every part of a compound target, and says nothing without a number', () => {
    expect(targetMet({ name: 'x', value: 60_000, unit: 'events/s', ratio: 0.45, target: '≥50k/s, ≥0.4× raw' })).toBe(
      true,
    );
    expect(targetMet({ name: 'x', value: 40_000, unit: 'events/s', ratio: 0.45, target: '≥50k/s, ≥0.4× raw' })).toBe(
      false,
    );
    expect(targetMet({ name: 'x', value: 1, unit: 'ms' })).toBeUndefined();
    expect(targetMet({ name: 'x', value: 1, unit: 'ms', target: 'close to flat' })).toBeUndefined();
    expect(targetMet({ name: 'x', value: 1, unit: 'ms', target: '≤ 0.5×' })).toBeUndefined();
  });
});
