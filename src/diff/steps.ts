import type { StoredEvent } from '../events/envelope.js';
import type { StepKind } from './align-events.js';
import { compareStep, type DraftDifference } from './compare-step.js';
import { IntColumn } from './load.js';
import type { ResolvedPolicy } from './policy.js';
import type { EventRef, RowStatus } from './report-schema.js';
import type { Labels } from './sentences.js';
import { labelOf } from './signature.js';
import type { EventStash } from './stash.js';

export const STATUS_CODE: Record<RowStatus, number> = {
  same: 0,
  equivalent: 1,
  changed: 2,
  added: 3,
  removed: 4,
  moved: 5,
};
export const STATUS_OF: RowStatus[] = ['same', 'equivalent', 'changed', 'added', 'removed', 'moved'];

/** A difference found at one alignment step, with what its report entry needs of the events (which may be gone by then). */
export interface StepDraft {
  step: number;
  draft: DraftDifference;
  a: EventRef | null;
  b: EventRef | null;
  /** A's event at this step, as far as reclassing a moved response needs it (diff-traces.ts reclassCompletionOrder) */
  aEvent: Pick<StoredEvent, 'eventId' | 'type' | 'parentEventId'> | undefined;
}

export function eventRef(event: StoredEvent, index: number): EventRef {
  return { index, seq: event.seq, type: event.type, label: labelOf(event) };
}

/** The outcome of every alignment step so far, in step order: its status and its differences. */
export class StepLog {
  readonly status = new IntColumn();
  readonly drafts: StepDraft[] = [];
  constructor(
    private readonly policy: ResolvedPolicy,
    private readonly labels: Labels,
    private readonly positionsA: IntColumn,
    private readonly positionsB: IntColumn,
  ) {}

  /** Compares step `step` (`i`/`j`: the events' indices, -1 for none) and records its outcome; returns the status code. */
  record(
    step: number,
    kind: StepKind,
    i: number,
    j: number,
    ea: StoredEvent | undefined,
    eb: StoredEvent | undefined,
  ): number {
    if (step !== this.status.length) throw new Error(`diff: step ${step} recorded out of order`);
    const result = compareStep(kind, ea, eb, this.policy, this.labels, (side) =>
      side === 'a' ? this.positionsA.at(i) : this.positionsB.at(j),
    );
    const code = STATUS_CODE[result.status];
    this.status.push(code);
    for (const draft of result.diffs) {
      this.drafts.push({
        step,
        draft,
        a: ea ? eventRef(ea, this.positionsA.at(i)) : null,
        b: eb ? eventRef(eb, this.positionsB.at(j)) : null,
        aEvent: ea ? { eventId: ea.eventId, type: ea.type, parentEventId: ea.parentEventId } : undefined,
      });
    }
    return code;
  }
}

/**
 * Decides which events of the common prefix (steps 0…P−1, each pairing event k of A with event k of B) the report
 * can still show, while they are read: a long timeline shows only the steps within `context` of a difference
 * (diff-traces.ts buildTimeline), so an unchanged step whose neighbourhood is known to be unchanged is released from
 * both stashes. Nothing is released while the whole timeline might still be shown (both sides ≤ fullTimelineMax
 * events so far: a timeline has at least as many steps as either side has events).
 */
export class PrefixWindow {
  private lastChanged = Number.NEGATIVE_INFINITY;
  private releaseAt = 0;
  private folding = false;
  constructor(
    private readonly context: number,
    private readonly fullTimelineMax: number,
    private readonly stashA: EventStash,
    private readonly stashB: EventStash,
  ) {}

  add(step: number, ea: StoredEvent, eb: StoredEvent, status: number): void {
    this.stashA.hold(step, ea);
    this.stashB.hold(step, eb);
    if (status > STATUS_CODE.equivalent) this.lastChanged = step;
    // step + 1 events read on each side so far
    if (!this.folding && step + 1 > this.fullTimelineMax) this.folding = true;
    if (!this.folding) return;
    // every status up to `step` is known, so a step `context` behind it knows its whole neighbourhood
    for (; this.releaseAt <= step - this.context; this.releaseAt++) {
      if (this.lastChanged >= this.releaseAt - this.context) continue;
      this.stashA.release(this.releaseAt);
      this.stashB.release(this.releaseAt);
    }
  }
}
