import { alignEvents, StepKind } from './align-events.js';
import { CLASS_TITLES } from './classify.js';
import { clipValue } from './clip.js';
import { RESPONSE_TYPES } from './compare-step.js';
import { DiffOptionError } from './errors.js';
import { TraceReader } from './load.js';
import { DEFAULT_MAX_EDITS, Interner } from './myers.js';
import {
  loadPolicyFile,
  mergePolicies,
  parsePolicy,
  resolvePolicy,
  type DiffPolicy,
  type SilentPaths,
  type TimingRule,
} from './policy.js';
import {
  DIFF_REPORT_VERSION,
  type DiffClass,
  type DiffReport,
  type Difference,
  type RowStatus,
  type TimelineEvent,
  type TimelineRow,
  type Verdict,
} from './report-schema.js';
import { capitalize, positionPrefix, type Labels } from './sentences.js';
import { TenantGuard, checkRefsShareTenant, isStoredTraceRef, type TraceSource } from './sources.js';
import { PrefixWindow, STATUS_CODE, STATUS_OF, StepLog, eventRef, type StepDraft } from './steps.js';

export interface DiffOptions {
  /** extra policy (validated like a policy file); applied after `policyFile` */
  policy?: DiffPolicy;
  /** path of a JSON policy file */
  policyFile?: string;
  /** how the two runs are named in sentences and reports (default "A" and "B") */
  labels?: { a?: string; b?: string };
  /** unchanged events shown around each difference in long timelines (default 3) */
  context?: number;
  /** timelines with at most this many rows are shown whole (default 200) */
  fullTimelineMax?: number;
  /** values in the report larger than this many bytes are truncated with size and hash (default 64 KiB; Infinity: never) */
  maxInlineBytes?: number;
  /** edit-distance cap for the exact alignment (default 2000); beyond it the middle is paired positionally */
  maxEdits?: number;
  /**
   * How events that differ only in timing (timestamps, latencies, durations, a replay's link to its recording) count:
   * 'equivalent' (default: two live runs) or 'same', so they stay "identical" — a replay's timing is the host's.
   */
  timing?: TimingRule;
  /** ignored fields whose differences do not count at all (keep "identical"), per type (policy.ts SilentPaths) */
  silentPaths?: SilentPaths;
}

/**
 * Compares two runs of an agent: aligns their events by signature, patches each aligned pair under the
 * policy, classifies every difference, and returns the versioned report the renderers print.
 * `a` and `b` are event iterables or stored-trace references; both must belong to one tenant.
 *
 * Both sides are read once, side by side. While their signatures agree (the common prefix, which the alignment
 * pairs one to one: myers.ts trims it before aligning), each pair is compared as it arrives and only the events the
 * report can still show stay in memory (steps.ts PrefixWindow); from the first disagreement on, every event is kept
 * (compactly for a stream, stash.ts) until the whole alignment is known. A 100k-event diff of two streamed runs
 * with a few payload changes so holds a few dozen events instead of both traces.
 */
export async function diffTraces(a: TraceSource, b: TraceSource, options: DiffOptions = {}): Promise<DiffReport> {
  const context = nonNegativeInt(options.context ?? 3, 'context');
  const fullTimelineMax = nonNegativeInt(options.fullTimelineMax ?? 200, 'fullTimelineMax');
  const maxInlineBytes = options.maxInlineBytes ?? 64 * 1024;
  const labels: Labels = { a: options.labels?.a ?? 'A', b: options.labels?.b ?? 'B' };

  const policies: DiffPolicy[] = [];
  if (options.policyFile !== undefined) policies.push(loadPolicyFile(options.policyFile));
  if (options.policy !== undefined) policies.push(parsePolicy(options.policy, 'options.policy'));
  const policy = resolvePolicy(mergePolicies(...policies), options.timing ?? 'equivalent', options.silentPaths);

  checkRefsShareTenant(a, b);
  const guard = new TenantGuard(isStoredTraceRef(a) ? a.tenantId : isStoredTraceRef(b) ? b.tenantId : undefined);
  const interner = new Interner();
  const ta = new TraceReader(a, policy, guard, interner);
  const tb = new TraceReader(b, policy, guard, interner);
  const log = new StepLog(policy, labels, ta.positions, tb.positions);
  let prefix: number;
  try {
    prefix = await readBoth(ta, tb, log, new PrefixWindow(context, fullTimelineMax, ta.stash, tb.stash));
  } catch (err) {
    await Promise.allSettled([ta.close(), tb.close()]);
    throw err;
  }

  const al = alignEvents(
    { keys: ta.keys.view(), types: ta.types.view() },
    { keys: tb.keys.view(), types: tb.types.view() },
    options.maxEdits ?? DEFAULT_MAX_EDITS,
  );
  const steps = al.kind.length;
  for (let s = 0; s < prefix; s++) {
    if (al.kind[s] !== StepKind.Pair || al.a[s] !== s || al.b[s] !== s)
      throw new Error(`diff: step ${s} of the common prefix is not the pair (${s}, ${s})`);
  }
  for (let s = prefix; s < steps; s++) {
    const i = al.a[s] as number;
    const j = al.b[s] as number;
    const ea = i >= 0 ? ta.stash.get(i) : undefined;
    const eb = j >= 0 ? tb.stash.get(j) : undefined;
    log.record(s, al.kind[s] as StepKind, i, j, ea, eb);
  }
  const status = log.status.view();
  const drafts = log.drafts;

  reclassCompletionOrder(drafts);
  const differences: Difference[] = drafts.map(({ draft, a: refA, b: refB }, n) => ({
    id: n + 1,
    class: draft.class,
    change: draft.change,
    a: refA,
    b: refB,
    sentence: draft.sentence,
    paths: draft.paths,
    patch: draft.patch.map((op) => clipOp(op, maxInlineBytes)),
    ...(draft.textDiff !== undefined ? { textDiff: draft.textDiff } : {}),
  }));
  const idsByStep = new Map<number, number[]>();
  drafts.forEach(({ step }, n) => {
    const list = idsByStep.get(step);
    if (list) list.push(n + 1);
    else idsByStep.set(step, [n + 1]);
  });

  const timeline = buildTimeline(al.a, al.b, status, idsByStep, ta, tb, { context, fullTimelineMax, maxInlineBytes });
  const classCounts: Partial<Record<DiffClass, number>> = {};
  for (const d of differences) classCounts[d.class] = (classCounts[d.class] ?? 0) + 1;

  const anyEquivalent = status.some((s) => s === STATUS_CODE.equivalent);
  const ignoredDiffer = ta.ignoredCount !== tb.ignoredCount || ta.ignoredDigest() !== tb.ignoredDigest();
  const verdict: Verdict =
    differences.length > 0 ? 'diverged' : anyEquivalent || ignoredDiffer ? 'equivalent' : 'identical';
  const first = differences[0];
  const firstDivergence = first
    ? {
        differenceId: first.id,
        class: first.class,
        a: first.a,
        b: first.b,
        sentence: `${positionPrefix(first.a, first.b, labels)}: ${first.sentence}`,
      }
    : null;

  return {
    kind: 'retrace.diff',
    version: DIFF_REPORT_VERSION,
    verdict,
    summary: summarize(verdict, differences, classCounts, steps, firstDivergence?.sentence),
    a: side(ta, labels.a),
    b: side(tb, labels.b),
    firstDivergence,
    classCounts,
    differences,
    timeline,
    alignment: al.exact ? 'myers' : 'positional',
    policy: policy.description,
  };
}

/**
 * Reads both sides in step. Event k of A and event k of B with the same signature form step k of the alignment
 * (the common prefix), compared at once; the first pair whose signatures differ, or the end of one side, ends the
 * prefix, and the rest of both sides is read into their stashes to be aligned. Returns the prefix length.
 */
async function readBoth(ta: TraceReader, tb: TraceReader, log: StepLog, window: PrefixWindow): Promise<number> {
  for (let k = 0; ; k++) {
    const ea = ta.sync ? ta.nextSync() : await ta.next();
    const eb = tb.sync ? tb.nextSync() : await tb.next();
    if (ea === undefined || eb === undefined || ta.keys.at(k) !== tb.keys.at(k)) {
      if (ea) ta.stash.keep(k, ea);
      if (eb) tb.stash.keep(k, eb);
      await readRest(ta);
      await readRest(tb);
      return k;
    }
    window.add(k, ea, eb, log.record(k, StepKind.Pair, k, k, ea, eb));
  }
}

async function readRest(t: TraceReader): Promise<void> {
  for (;;) {
    const e = t.sync ? t.nextSync() : await t.next();
    if (e === undefined) return;
    t.stash.keep(t.count - 1, e);
  }
}

function side(t: TraceReader, label: string) {
  return { label, tenantId: t.tenantId, traceId: t.traceId, ignoredEvents: t.ignoredCount, totals: t.totals() };
}

function timelineEvent(t: TraceReader, i: number, maxInlineBytes: number): TimelineEvent {
  const e = t.stash.get(i);
  return { ...eventRef(e, t.positions.at(i)), timestamp: e.timestamp, payload: clipValue(e.payload, maxInlineBytes) };
}

function clipOp<T extends { value?: unknown; oldValue?: unknown }>(op: T, max: number): T {
  const out = { ...op };
  if ('value' in op) out.value = clipValue(op.value, max);
  if ('oldValue' in op) out.oldValue = clipValue(op.oldValue, max);
  return out;
}

/**
 * The side-by-side timeline. Short runs are shown whole; in long ones, unchanged stretches away from any difference
 * fold into "gap" rows, so a 100k-event diff with ten changes yields a report of a few dozen rows.
 */
function buildTimeline(
  stepA: readonly number[],
  stepB: readonly number[],
  status: Int32Array,
  idsByStep: ReadonlyMap<number, number[]>,
  ta: TraceReader,
  tb: TraceReader,
  opts: { context: number; fullTimelineMax: number; maxInlineBytes: number },
): TimelineRow[] {
  const n = status.length;
  const keep = new Uint8Array(n);
  if (n <= opts.fullTimelineMax) keep.fill(1);
  else {
    for (let s = 0; s < n; s++) {
      if ((status[s] as number) <= STATUS_CODE.equivalent) continue;
      for (let t = Math.max(0, s - opts.context); t <= Math.min(n - 1, s + opts.context); t++) keep[t] = 1;
    }
  }
  const rows: TimelineRow[] = [];
  for (let s = 0; s < n; ) {
    if (keep[s]) {
      const i = stepA[s] as number;
      const j = stepB[s] as number;
      rows.push({
        kind: 'event',
        status: STATUS_OF[status[s] as number] as RowStatus,
        a: i >= 0 ? timelineEvent(ta, i, opts.maxInlineBytes) : null,
        b: j >= 0 ? timelineEvent(tb, j, opts.maxInlineBytes) : null,
        differenceIds: idsByStep.get(s) ?? [],
      });
      s++;
      continue;
    }
    // only unchanged pairs are ever folded, so both sides exist for every step of a gap
    const start = s;
    while (s < n && !keep[s]) s++;
    rows.push({
      kind: 'gap',
      count: s - start,
      a: { from: ta.positions.at(stepA[start] as number), to: ta.positions.at(stepA[s - 1] as number) },
      b: { from: tb.positions.at(stepB[start] as number), to: tb.positions.at(stepB[s - 1] as number) },
    });
  }
  return rows;
}

function summarize(
  verdict: Verdict,
  differences: readonly Difference[],
  counts: Partial<Record<DiffClass, number>>,
  steps: number,
  first: string | undefined,
): string {
  if (verdict === 'identical') return `The runs are identical: all ${steps} compared events match.`;
  if (verdict === 'equivalent') {
    return `The runs are equivalent: all ${steps} compared events match once ignored fields (ids, timestamps, latencies) are set aside.`;
  }
  const byClass = Object.entries(counts)
    .map(([cls, count]) => `${count} ${CLASS_TITLES[cls as DiffClass]}`)
    .join(', ');
  const plural = differences.length === 1 ? 'difference' : 'differences';
  return `The runs diverge: ${differences.length} ${plural} (${byClass}). First: ${first === undefined ? '' : capitalize(first)}.`;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new DiffOptionError(
      `The diff option ${name} must be a whole number ≥ 0, got ${String(value)}.`,
      `Pass ${name}: 3 or leave it out.`,
      name,
    );
  }
  return value;
}

/**
 * A response that moved while its request stayed in place: the requests were made in the same order but completed in
 * another one — "completion order", not a change of control flow.
 */
function reclassCompletionOrder(drafts: readonly StepDraft[]): void {
  const movedIds = new Set<string>();
  for (const { draft, aEvent } of drafts) if (draft.change === 'moved' && aEvent) movedIds.add(aEvent.eventId);
  for (const { draft, aEvent: e } of drafts) {
    if (draft.change !== 'moved' || !e || !RESPONSE_TYPES.has(e.type)) continue;
    if (e.parentEventId !== undefined && !movedIds.has(e.parentEventId)) draft.class = 'completion-order';
  }
}
