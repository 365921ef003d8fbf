import type { StoredEvent } from '../events/envelope.js';
import type { EventType } from '../events/payloads.js';
import type { PatchOp } from './json-diff.js';
import type { DiffClass, EventRef } from './report-schema.js';
import { subjectOf } from './signature.js';

/**
 * Short sentences for differences. They must make sense to someone who has never seen retrace: name the step (the
 * model, the tool), say what differs in plain words, and point at the field.
 */

export interface Labels {
  a: string;
  b: string;
}

const MAX_PATHS_SHOWN = 3;
const MAX_INLINE_VALUE = 60;

/** "the llm_request to gpt-4o-mini", "the tool_call to search", "the agent_completed event" */
export function stepName(event: StoredEvent): string {
  const subject = subjectOf(event);
  switch (event.type) {
    case 'llm_request':
    case 'tool_call':
    case 'http_request':
      return `the ${event.type} to ${subject}`;
    case 'llm_response':
    case 'tool_response':
      return `the ${event.type} from ${subject}`;
    case 'decision_made':
      return `the decision "${subject}"`;
    case 'memory_updated':
      return `the memory update of "${subject}"`;
    case 'file_written':
      return `the ${event.payload.op} of file ${subject}`;
    default:
      return `the ${event.type} event`;
  }
}

const WHAT: Record<DiffClass, (type: EventType) => string> = {
  'prompt-drift': () => 'has a different prompt',
  'tool-argument-drift': (t) => (t === 'http_request' ? 'has a different request' : 'has different arguments'),
  'model-parameter-change': () => 'has different model parameters',
  'control-flow-change': (t) => (t === 'decision_made' ? 'went differently' : 'is in a different place in the run'),
  'output-change': (t) =>
    t === 'agent_completed'
      ? 'has a different final output'
      : t === 'tool_response'
        ? 'returned a different result'
        : 'has different content',
  'error-change': () => 'has a different error outcome',
  'input-change': () => 'has a different input',
  'state-change': () => 'stored a different value',
  'environment-change': () => 'ran in a different environment',
  'metadata-change': () => 'has different event metadata',
  'completion-order': () => 'completed in a different order',
  abort: () => 'was interrupted differently',
  timing: () => 'has different timing',
  'file-output': () => 'wrote different content',
};

/** "the llm_request to gpt-4o-mini has a different prompt (messages[2].content)" */
export function changedSentence(
  event: StoredEvent,
  cls: DiffClass,
  ops: readonly PatchOp[],
  paths: readonly string[],
  labels: Labels,
): string {
  let detail = paths.slice(0, MAX_PATHS_SHOWN).join(', ');
  if (paths.length > MAX_PATHS_SHOWN) detail += ` and ${paths.length - MAX_PATHS_SHOWN} more`;
  const only = ops.length === 1 ? ops[0] : undefined;
  if (only?.op === 'add' || only?.op === 'remove')
    detail += only.op === 'add' ? ` added in run ${labels.b}` : ` removed in run ${labels.b}`;
  if (only?.op === 'replace') {
    const from = inline(only.oldValue);
    const to = inline(only.value);
    if (from !== undefined && to !== undefined) detail += `: ${from} → ${to}`;
  }
  return `${stepName(event)} ${WHAT[cls](event.type)} (${detail})`;
}

/** A short literal for the sentence, or undefined when the value is too long to read inline. */
function inline(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text.length <= MAX_INLINE_VALUE ? text : undefined;
}

export function addedSentence(event: StoredEvent, labels: Labels): string {
  if (event.type === 'agent_failed')
    return `run ${labels.b} failed (${event.payload.error.name}: ${event.payload.error.message}), run ${labels.a} did not`;
  return `run ${labels.b} has an extra ${describeStep(event)} that run ${labels.a} does not have`;
}

export function removedSentence(event: StoredEvent, labels: Labels): string {
  if (event.type === 'agent_completed' || event.type === 'agent_failed') {
    return `run ${labels.b} has no ${event.type} event: it ended before finishing the way run ${labels.a} did`;
  }
  return `run ${labels.b} is missing the ${describeStep(event)} that run ${labels.a} has`;
}

export function movedSentence(event: StoredEvent, a: EventRef, b: EventRef): string {
  return `${stepName(event)} moved: it is event #${a.index} in one run and #${b.index} in the other (the calls happen in a different order)`;
}

/** agent_completed in one run, agent_failed in the other */
export function outcomeSentence(a: StoredEvent, b: StoredEvent, labels: Labels): string {
  const outcome = (e: StoredEvent): string =>
    e.type === 'agent_failed' ? `failed (${e.payload.error.name}: ${e.payload.error.message})` : 'completed';
  return `run ${labels.a} ${outcome(a)} but run ${labels.b} ${outcome(b)}`;
}

function describeStep(event: StoredEvent): string {
  const subject = subjectOf(event);
  switch (event.type) {
    case 'llm_request':
    case 'tool_call':
    case 'http_request':
      return `${event.type} to ${subject}`;
    case 'llm_response':
    case 'tool_response':
      return `${event.type} from ${subject}`;
    default:
      return subject === undefined ? `${event.type} event` : `${event.type} "${subject}"`;
  }
}

/** "Event #7" when both runs agree on the position, else "Event #7 (A) / #8 (B)" */
export function positionPrefix(a: EventRef | null, b: EventRef | null, labels: Labels): string {
  if (a && b)
    return a.index === b.index ? `Event #${a.index}` : `Event #${a.index} in ${labels.a} / #${b.index} in ${labels.b}`;
  if (a) return `Event #${a.index} of ${labels.a}`;
  if (b) return `Event #${b.index} of ${labels.b}`;
  return 'Event';
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
