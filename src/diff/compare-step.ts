import type { StoredEvent } from '../events/envelope.js';
import { canonicalJson } from '../hashing/canonical-json.js';
import { StepKind } from './align-events.js';
import { displayPath, groupByClass } from './classify.js';
import { diffJson } from './json-diff.js';
import { normalizeEvent } from './normalize.js';
import type { ResolvedPolicy } from './policy.js';
import type { DiffClass, RowStatus } from './report-schema.js';
import {
  addedSentence,
  changedSentence,
  movedSentence,
  outcomeSentence,
  removedSentence,
  type Labels,
} from './sentences.js';
import type { PatchOp } from './json-diff.js';
import { EMPTY_TRIE, type PathTrie } from './paths.js';
import { unifiedTextDiff } from './text-diff.js';

export const RESPONSE_TYPES = new Set(['llm_response', 'http_response', 'tool_response']);

/** A difference before it gets its id and event references. */
export interface DraftDifference {
  class: DiffClass;
  change: 'changed' | 'added' | 'removed' | 'moved';
  sentence: string;
  paths: string[];
  patch: PatchOp[];
  textDiff?: string;
}

export interface StepResult {
  status: RowStatus;
  diffs: DraftDifference[];
}

const SAME: StepResult = { status: 'same', diffs: [] };
const EQUIVALENT: StepResult = { status: 'equivalent', diffs: [] };

function trieOf(event: StoredEvent, policy: ResolvedPolicy): PathTrie {
  const rule = policy.rules.get(event.type);
  return rule?.mode === 'compare' ? rule.trie : EMPTY_TRIE;
}

/** Equal after normalization? JSON text first (cheap, and usually enough), canonical JSON when key order may differ. */
function sameJson(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y) || canonicalJson(x) === canonicalJson(y);
}

/**
 * Were the ignored values equal too? Mostly primitives (timestamps, latencies, ids), so === first. Objects compare as
 * JSON text: ignored values that differ only in key order count as "equivalent", which passes just like "identical".
 */
function sameRemoved(x: readonly unknown[], y: readonly unknown[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if (u === v) continue;
    if (typeof u !== 'object' || typeof v !== 'object' || JSON.stringify(u) !== JSON.stringify(v)) return false;
  }
  return true;
}

export function compareStep(
  kind: StepKind,
  ea: StoredEvent | undefined,
  eb: StoredEvent | undefined,
  policy: ResolvedPolicy,
  labels: Labels,
  refIndex: (side: 'a' | 'b') => number,
): StepResult {
  if (kind === StepKind.Removed && ea) {
    return {
      status: 'removed',
      diffs: [
        {
          class: 'control-flow-change',
          change: 'removed',
          sentence: removedSentence(ea, labels),
          paths: [],
          patch: [],
        },
      ],
    };
  }
  if (kind === StepKind.Added && eb) {
    const cls: DiffClass = eb.type === 'agent_failed' ? 'error-change' : 'control-flow-change';
    return {
      status: 'added',
      diffs: [{ class: cls, change: 'added', sentence: addedSentence(eb, labels), paths: [], patch: [] }],
    };
  }
  if (!ea || !eb) throw new Error(`diff: step of kind ${kind} lacks an event`);

  const na = normalizeEvent(ea, trieOf(ea, policy));
  const nb = normalizeEvent(eb, trieOf(eb, policy));
  const diffs: DraftDifference[] = [];
  if (kind === StepKind.Moved) {
    const from = { index: refIndex('a'), seq: ea.seq, type: ea.type, label: '' };
    const to = { index: refIndex('b'), seq: eb.seq, type: eb.type, label: '' };
    diffs.push({
      // a response moved while its request did not is reclassed as completion order (diff-traces.ts)
      class: 'control-flow-change',
      change: 'moved',
      sentence: movedSentence(ea, from, to),
      paths: [],
      patch: [],
    });
  }
  if (sameJson(na.doc, nb.doc)) {
    if (diffs.length > 0) return { status: 'moved', diffs };
    return sameRemoved(na.removed, nb.removed) ? SAME : EQUIVALENT;
  }
  const patch = diffJson(na.doc, nb.doc);
  if (ea.type !== eb.type) {
    // agent_completed in one run, agent_failed in the other: one outcome difference, not a list of field changes
    diffs.push({
      class: 'error-change',
      change: 'changed',
      sentence: outcomeSentence(ea, eb, labels),
      paths: ['(outcome)'],
      patch,
    });
  } else {
    for (const [cls, ops] of groupByClass(ea.type, patch)) {
      const paths = [...new Set(ops.map((op) => displayPath(ea.type, op.path)))];
      const draft: DraftDifference = {
        class: cls,
        change: kind === StepKind.Moved ? 'moved' : 'changed',
        sentence: changedSentence(ea, cls, ops, paths, labels),
        paths,
        patch: ops,
      };
      const content = cls === 'file-output' ? ops.find((op) => op.path === '/payload/content') : undefined;
      if (content && typeof content.oldValue === 'string' && typeof content.value === 'string')
        draft.textDiff = unifiedTextDiff(content.oldValue, content.value);
      diffs.push(draft);
    }
  }
  return { status: kind === StepKind.Moved ? 'moved' : 'changed', diffs };
}
