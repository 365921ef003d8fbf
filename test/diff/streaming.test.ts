import { describe, expect, it } from 'vitest';
import { CrossTenantDiffError, diffTraces } from '../../src/diff/index.js';
import type { EventStash } from '../../src/diff/stash.js';
import { PrefixWindow, STATUS_CODE } from '../../src/diff/steps.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { supportRun } from './fixtures.js';

/** A stash that only remembers which indices it holds. */
class RecordingStash implements EventStash {
  readonly held = new Set<number>();
  hold(i: number): void {
    this.held.add(i);
  }
  release(i: number): void {
    this.held.delete(i);
  }
  keep(i: number): void {
    this.held.add(i);
  }
  get(): StoredEvent {
    throw new Error('not used');
  }
}

const event = {} as StoredEvent;

function heldAfter(steps: number, changed: ReadonlySet<number>, context: number, fullTimelineMax: number): number[] {
  const a = new RecordingStash();
  const b = new RecordingStash();
  const window = new PrefixWindow(context, fullTimelineMax, a, b);
  for (let s = 0; s < steps; s++)
    window.add(s, event, event, changed.has(s) ? STATUS_CODE.changed : STATUS_CODE.equivalent);
  expect([...b.held].sort((x, y) => x - y)).toEqual([...a.held].sort((x, y) => x - y));
  return [...a.held].sort((x, y) => x - y);
}

describe('PrefixWindow: what the common prefix keeps for the report', () => {
  it('keeps `context` steps around each change, and the last `context` steps (the next may change)', () => {
    expect(heldAfter(100, new Set([50, 52]), 3, 10)).toEqual([47, 48, 49, 50, 51, 52, 53, 54, 55, 97, 98, 99]);
  });

  it('keeps only the changed steps with context 0, and everything while the whole timeline may be shown', () => {
    expect(heldAfter(100, new Set([20]), 0, 10)).toEqual([20]);
    expect(heldAfter(8, new Set(), 1, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a change right after the whole-timeline limit still has its context', () => {
    expect(heldAfter(30, new Set([11]), 2, 10)).toEqual([9, 10, 11, 12, 13, 28, 29]);
  });
});

describe('diffTraces on streams', () => {
  it('stops reading the other side when one side fails (a store read can release what it holds)', async () => {
    let closed = false;
    async function* a(): AsyncGenerator<StoredEvent> {
      try {
        yield* supportRun({ traceId: 'run-a' });
      } finally {
        closed = true;
      }
    }
    async function* b(): AsyncGenerator<StoredEvent> {
      yield* supportRun({ traceId: 'run-b', tenantId: 'other' });
    }
    await expect(diffTraces(a(), b())).rejects.toBeInstanceOf(CrossTenantDiffError);
    expect(closed).toBe(true);
  });
});
