import { diffTraces, type DiffOptions } from '../diff/diff-traces.js';
import type { DiffReport, Difference, EventRef, Verdict } from '../diff/report-schema.js';
import { labelOf } from '../diff/signature.js';
import type { StoredEvent } from '../events/envelope.js';
import type { ReplayMiss } from './hooks.js';

/**
 * The one comparison of a recording and its replay. `retrace replay` prints it, its `--json` and `--report` file
 * render it, and `retrace ci` builds its JUnit testcases from it; it is computed once, in replayTrace, with src/diff
 * (the only comparator), so no two of those outputs can disagree.
 *
 * The verdict is the diff report's (src/diff/diff-traces.ts), under REPLAY_DIFF_POLICY with timing 'same':
 *   identical  — the same events up to ids, timestamps and latencies: every compared field is equal once the ids
 *                minted per trace (eventId, seq, hashes), the timing (timestamps, latencies, durations, chunk timing)
 *                and the replay's link to its recording are set aside, and the nondeterminism events match;
 *                and the replay's run context (its entry, environment and metadata: where it ran) are set aside;
 *   equivalent — equal once the policy's other ignored fields are set aside too (headers, provider-minted ids, host
 *                details, error stacks);
 *   diverged   — anything else; firstDivergence names the first difference and its class.
 * A request the recording could not answer (a miss under `error` or `nearest`) makes the replay diverged even when
 * the events compare equal under the policy: it is added to the report as a difference of its own.
 */

export type ReplayVerdict = Verdict;

/** The first divergence in replay terms: which recorded event, which replayed one, what differs. */
export interface ReplayDivergence {
  /** position of the first differing event in the recording (or the replay when it is an extra event); -1 for a miss */
  index: number;
  originalSeq: number | null;
  replaySeq: number | null;
  kind: 'missing' | 'extra' | 'type' | 'payload';
  expectedType: string | null;
  actualType: string | null;
  /** JSON Pointer of the first changed field (payload differences) */
  path?: string;
  expected?: unknown;
  actual?: unknown;
  /** the report's first-divergence sentence */
  message: string;
  /** the diff class (prompt drift, tool-argument drift, …) */
  class: string;
}

export interface ReplayComparison {
  verdict: ReplayVerdict;
  firstDivergence: ReplayDivergence | null;
  /** the full src/diff report of recording vs replay; report.verdict === verdict */
  report: DiffReport;
}

/** How the two sides are named in sentences and reports. */
export const REPLAY_LABELS = { a: 'recording', b: 'replay' } as const;

/**
 * The replay's diff policy on top of src/diff's defaults: where and how the run was started — the entry (the replay
 * may run a changed copy with --agent, or a checkout elsewhere), the recording environment and the run metadata —
 * is not a difference in what the agent did.
 */
const REPLAY_CONTEXT_PATHS = ['payload.entry', 'payload.environment', 'payload.metadata'];
export const REPLAY_DIFF_POLICY: NonNullable<DiffOptions['policy']> = {
  types: { agent_started: { ignorePaths: REPLAY_CONTEXT_PATHS } },
};
/**
 * …and they do not make an unchanged agent's replay "equivalent" instead of "identical"; nor do the stacks of errors
 * the replay re-created from the recording (an abort, a cut, a timeout): a stack says where the error was made, and a
 * replay makes it in another process by construction — its class and message are compared.
 */
const REPLAY_SILENT_PATHS: NonNullable<DiffOptions['silentPaths']> = {
  agent_started: REPLAY_CONTEXT_PATHS,
  llm_response: ['payload.error.stack'],
  http_response: ['payload.error.stack'],
  tool_response: ['payload.error.stack'],
  agent_failed: ['payload.error.stack'],
};

/** The diff options of every recording-vs-replay comparison (the inspector's diff view uses them too). */
export const REPLAY_DIFF_OPTIONS = {
  labels: REPLAY_LABELS,
  policy: REPLAY_DIFF_POLICY,
  timing: 'same',
  silentPaths: REPLAY_SILENT_PATHS,
} as const satisfies DiffOptions;

export async function compareReplay(
  original: readonly StoredEvent[],
  replay: readonly StoredEvent[],
  misses: readonly ReplayMiss[] = [],
  /** how the report is laid out (not what is compared) */
  layout: Pick<DiffOptions, 'fullTimelineMax' | 'context' | 'maxInlineBytes'> = {},
): Promise<ReplayComparison> {
  const report = await diffTraces(
    withoutEnvReads(withoutServedToolInternals(original, replay)),
    withoutEnvReads(replay),
    {
      ...REPLAY_DIFF_OPTIONS,
      ...layout,
    },
  );
  const drift = misses.find((m) => m.policy !== 'live');
  if (drift) addMiss(report, drift, original, replay);
  return { verdict: report.verdict, firstDivergence: divergenceOf(report), report };
}

/**
 * The environment reads (nondeterminism events of source env) are the replay's input, served from the recording, not
 * something the agent did: a recording made in a long-lived process also carries the variables read before the run
 * (src/recorder/env-capture.ts ambient reads), which a fresh sandbox never reads again. They are left out of the
 * comparison, on both sides, like the run context.
 */
function withoutEnvReads(events: readonly StoredEvent[]): readonly StoredEvent[] {
  return events.some((e) => e.type === 'nondeterminism' && e.payload.source === 'env')
    ? events.filter((e) => e.type !== 'nondeterminism' || e.payload.source !== 'env')
    : events;
}

/**
 * The recording without what happened inside tool calls the replay answered from it: a tool served from the recording
 * does not run, so the HTTP, LLM calls and nested tools its code made (events whose parent is that tool_call,
 * src/recorder/context.ts ToolScope) are part of the answer, not requests the replay should make again. A tool the
 * replay ran for real (its replayed tool_call has children of its own) keeps them, and they are compared.
 */
export function withoutServedToolInternals(
  original: readonly StoredEvent[],
  replay: readonly StoredEvent[],
): readonly StoredEvent[] {
  const keyOf = (e: StoredEvent): string | undefined =>
    e.type === 'tool_call' ? `${e.payload.tool}\u0000${e.payload.argsHash}\u0000${e.payload.occurrence}` : undefined;
  const parents = new Set<string>();
  for (const e of original) if (e.parentEventId !== undefined) parents.add(e.parentEventId);
  if (!original.some((e) => e.type === 'tool_call' && parents.has(e.eventId))) return original;
  // replayed tool calls that ran (something other than their own tool_response names them as parent)
  const replayCalls = new Map<string, string>();
  for (const e of replay) {
    const key = keyOf(e);
    if (key !== undefined) replayCalls.set(e.eventId, key);
  }
  const ran = new Set<string>();
  for (const e of replay) {
    const key = e.parentEventId !== undefined ? replayCalls.get(e.parentEventId) : undefined;
    if (key !== undefined && e.type !== 'tool_response') ran.add(key);
  }
  const served = new Set<string>();
  for (const e of original) {
    const key = keyOf(e);
    if (key !== undefined && !ran.has(key)) served.add(e.eventId);
  }
  const dropped = new Set<string>();
  const less = { llmCalls: 0, toolCalls: 0, httpCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const kept = original.filter((e) => {
    const parent = e.parentEventId;
    if (parent === undefined) return true;
    const inside = dropped.has(parent) || (served.has(parent) && e.type !== 'tool_response');
    if (!inside) return true;
    dropped.add(e.eventId);
    if (e.type === 'llm_request') less.llmCalls++;
    else if (e.type === 'tool_call') less.toolCalls++;
    else if (e.type === 'http_request') less.httpCalls++;
    else if (e.type === 'llm_response') {
      less.inputTokens += e.payload.usage?.inputTokens ?? 0;
      less.outputTokens += e.payload.usage?.outputTokens ?? 0;
      less.costUsd += e.payload.costUsd ?? 0;
    }
    return false;
  });
  // the run's totals counted those calls too: the replay, which did not make them, is compared without them
  return kept.map((e) => {
    if (e.type !== 'agent_completed' && e.type !== 'agent_failed') return e;
    const t = e.payload.totals;
    const totals = {
      ...t,
      llmCalls: Math.max(0, t.llmCalls - less.llmCalls),
      toolCalls: Math.max(0, t.toolCalls - less.toolCalls),
      ...(t.httpCalls !== undefined ? { httpCalls: Math.max(0, t.httpCalls - less.httpCalls) } : {}),
      inputTokens: Math.max(0, t.inputTokens - less.inputTokens),
      outputTokens: Math.max(0, t.outputTokens - less.outputTokens),
      costUsd: Math.max(0, Math.round((t.costUsd - less.costUsd) * 1e9) / 1e9),
    };
    return { ...e, payload: { ...e.payload, totals } } as StoredEvent;
  });
}

/**
 * A request the recording cannot answer is the first divergence, whatever the events show after it: under `error` the
 * replay stopped there, so what the agent did next (an SDK retrying the failed call, an error path) follows from the
 * miss. The retries of the missed request and their answers are folded into the one finding instead of standing as
 * extra events of their own ("control flow"); every other difference is kept after it.
 */
function addMiss(
  report: DiffReport,
  miss: ReplayMiss,
  original: readonly StoredEvent[],
  replay: readonly StoredEvent[],
): void {
  // the missed request in the replay, its retries (the same request key) and what answered them
  const hash = miss.request.requestHash;
  const retryIds = new Set<string>();
  const retrySeqs = new Set<number>();
  let missed: StoredEvent | undefined;
  if (hash !== undefined)
    for (const e of replay) {
      const isRequest = (e.type === 'llm_request' || e.type === 'http_request') && e.payload.requestHash === hash;
      if (isRequest || (e.parentEventId !== undefined && retryIds.has(e.parentEventId))) {
        if (isRequest) missed ??= e;
        retryIds.add(e.eventId);
        retrySeqs.add(e.seq);
      }
    }
  const b: EventRef | null = missed
    ? { index: replay.indexOf(missed), seq: missed.seq, type: missed.type, label: labelOf(missed) }
    : null;
  // where the diff put the missed request: beside a recorded request that it changes (its class, e.g. prompt drift),
  // or as an extra call the recording does not have at that point (control flow); the nearest recorded request when
  // the events do not show it (the policy ignores the field that changed the key)
  const row = b ? report.timeline.find((r) => r.kind === 'event' && r.b !== null && r.b.seq === b.seq) : undefined;
  const aligned = row?.kind === 'event' ? row : undefined;
  const own = aligned ? report.differences.find((d) => aligned.differenceIds.includes(d.id)) : undefined;
  let a: EventRef | null = null;
  if (aligned?.a) a = own?.a ?? null;
  else if (!aligned && miss.nearest) {
    const recorded = original.find((e) => e.seq === miss.nearest?.seq);
    if (recorded)
      a = { index: original.indexOf(recorded), seq: recorded.seq, type: recorded.type, label: labelOf(recorded) };
  }
  const extra = aligned !== undefined && aligned.a === null;
  const cls: Difference['class'] =
    miss.kind === 'tool' ? 'tool-argument-drift' : extra ? 'control-flow-change' : (own?.class ?? 'prompt-drift');
  // every difference the retries (and the missed request itself) account for, aligned against whatever they met
  const folded = report.differences.filter((d) => d.b !== null && retrySeqs.has(d.b.seq));
  let requests = 0;
  for (const e of replay)
    if (retryIds.has(e.eventId) && (e.type === 'llm_request' || e.type === 'http_request')) requests++;
  const retries = Math.max(0, requests - 1);
  const what = extra ? 'an extra call' : cls.replace(/-/g, ' ');
  const sentence = `request not in the recording (${what}): ${miss.message}${retries > 0 ? ` (${retries} retr${retries === 1 ? 'y' : 'ies'} of it folded into this finding)` : ''}`;
  const difference: Difference = {
    id: 1,
    class: cls,
    change: 'changed',
    a,
    b,
    sentence,
    paths: [...new Set(miss.diff.map((op) => op.path))],
    patch: miss.diff,
  };
  // renumber: the miss first, the differences that remain after it
  const foldedIds = new Set(folded.map((d) => d.id));
  const renumbered = new Map<number, number>();
  const kept = report.differences.filter((d) => !foldedIds.has(d.id));
  for (const [i, d] of kept.entries()) renumbered.set(d.id, i + 2);
  report.differences = [difference, ...kept.map((d) => ({ ...d, id: renumbered.get(d.id) as number }))];
  for (const row of report.timeline)
    if (row.kind === 'event')
      row.differenceIds = row.differenceIds.flatMap((id) => {
        const to = renumbered.get(id);
        return to === undefined ? [] : [to];
      });
  const counts: DiffReport['classCounts'] = {};
  for (const d of report.differences) counts[d.class] = (counts[d.class] ?? 0) + 1;
  report.classCounts = counts;
  report.verdict = 'diverged';
  report.firstDivergence = { differenceId: 1, class: difference.class, a, b, sentence };
  report.summary = `The runs diverge: the replay made a request the recording cannot answer. ${miss.message}`;
}

function divergenceOf(report: DiffReport): ReplayDivergence | null {
  const f = report.firstDivergence;
  if (!f) return null;
  const d = report.differences.find((x) => x.id === f.differenceId);
  const op = d?.patch[0];
  const kind: ReplayDivergence['kind'] =
    d?.change === 'added'
      ? 'extra'
      : d?.change === 'removed'
        ? 'missing'
        : f.a && f.b && f.a.type !== f.b.type
          ? 'type'
          : 'payload';
  return {
    index: f.a?.index ?? f.b?.index ?? -1,
    originalSeq: f.a?.seq ?? null,
    replaySeq: f.b?.seq ?? null,
    kind,
    expectedType: f.a?.type ?? null,
    actualType: f.b?.type ?? null,
    ...(op ? { path: op.path, expected: op.oldValue, actual: op.value } : {}),
    message: f.sentence,
    class: f.class,
  };
}
