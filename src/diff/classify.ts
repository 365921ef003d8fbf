import jsonpatch from 'fast-json-patch';
import type { EventType } from '../events/payloads.js';
import type { PatchOp } from './json-diff.js';
import type { DiffClass } from './report-schema.js';

const { unescapePathComponent } = jsonpatch;

/** Where a prompt lives in the request bodies of the providers retrace records. */
const PROMPT_FIELDS = new Set([
  'messages',
  'system',
  'input',
  'instructions',
  'prompt',
  'contents',
  'systemInstruction',
]);

/**
 * The class of one changed field, from the event type and the field's path (segments after the event root). The
 * classes answer "what kind of change is this" for a reader triaging a regression: did the prompt change, did the
 * agent call a tool differently, did a parameter change, did the output or the error change.
 */
export function classifyPath(type: EventType, segments: readonly string[]): DiffClass {
  if (segments[0] !== 'payload') return 'metadata-change';
  const field = segments[1];
  if (field === 'startMs' || field === 'headersMs' || field === 'latencyMs') return 'timing';
  if (field === 'interrupted') return 'abort';
  switch (type) {
    case 'llm_request':
      return field === 'body' && PROMPT_FIELDS.has(segments[2] ?? '') ? 'prompt-drift' : 'model-parameter-change';
    case 'llm_response':
    case 'http_response':
      return field === 'error' || field === 'status' ? 'error-change' : 'output-change';
    case 'tool_call':
      return field === 'tool' || field === 'occurrence' ? 'control-flow-change' : 'tool-argument-drift';
    case 'http_request':
      return 'tool-argument-drift';
    case 'tool_response':
      return field === 'error' ? 'error-change' : 'output-change';
    case 'decision_made':
      return 'control-flow-change';
    case 'memory_updated':
      return 'state-change';
    case 'agent_started':
      return field === 'environment' ? 'environment-change' : 'input-change';
    case 'agent_completed':
      return 'output-change';
    case 'agent_failed':
      return field === 'error' ? 'error-change' : 'output-change';
    case 'nondeterminism':
      return 'environment-change';
    case 'file_written':
      return 'file-output';
  }
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map(unescapePathComponent);
}

/**
 * A path as a person reads it: `messages[2].content`. Relative to the payload, and for LLM calls relative to the
 * provider body, since that is where the reader's own code put the values.
 */
export function displayPath(type: EventType, pointer: string): string {
  let segs = pointerSegments(pointer);
  if (segs[0] === 'payload') {
    segs = segs.slice(1);
    if ((type === 'llm_request' || type === 'llm_response') && segs[0] === 'body' && segs.length > 1)
      segs = segs.slice(1);
  }
  let out = '';
  for (const s of segs) {
    if (/^(0|[1-9][0-9]*)$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === '' ? '(whole event)' : out;
}

/** Groups a pair's patch by class, in the order each class first appears. */
export function groupByClass(type: EventType, ops: readonly PatchOp[]): Map<DiffClass, PatchOp[]> {
  const groups = new Map<DiffClass, PatchOp[]>();
  for (const op of ops) {
    const cls = classifyPath(type, pointerSegments(op.path));
    let list = groups.get(cls);
    if (!list) groups.set(cls, (list = []));
    list.push(op);
  }
  return groups;
}

/** How reports name each class. */
export const CLASS_TITLES: Record<DiffClass, string> = {
  'prompt-drift': 'prompt drift',
  'tool-argument-drift': 'tool-argument drift',
  'model-parameter-change': 'model/parameter change',
  'control-flow-change': 'control-flow change',
  'output-change': 'output change',
  'error-change': 'error change',
  'input-change': 'input change',
  'state-change': 'state change',
  'environment-change': 'environment change',
  'metadata-change': 'metadata change',
  'completion-order': 'completion order',
  abort: 'abort',
  timing: 'timing',
  'file-output': 'file output',
};
