import * as z from 'zod';

/**
 * The JSON diff report: the contract between `diffTraces` and everything that reads its result (the renderers, the
 * CLI, CI systems). Versioned: additive changes keep `version`; anything that changes meaning bumps it. Exported as
 * JSON Schema to docs/diff-report-schema.json (scripts/write-diff-schema.ts; a test checks the file is current).
 */
export const DIFF_REPORT_VERSION = 1 as const;

export const DIFF_CLASSES = [
  'prompt-drift',
  'tool-argument-drift',
  'model-parameter-change',
  'control-flow-change',
  'output-change',
  'error-change',
  'input-change',
  'state-change',
  'environment-change',
  'metadata-change',
  'completion-order',
  'abort',
  'timing',
  'file-output',
] as const;
export const DiffClassSchema = z.enum(DIFF_CLASSES);
export type DiffClass = z.infer<typeof DiffClassSchema>;

export const VerdictSchema = z.enum(['identical', 'equivalent', 'diverged']);
export type Verdict = z.infer<typeof VerdictSchema>;

export const PatchOpSchema = z.object({
  op: z.enum(['add', 'remove', 'replace']),
  /** JSON pointer from the event root, e.g. /payload/body/messages/2/content */
  path: z.string(),
  value: z.unknown().optional(),
  /** what was there in A (remove/replace); not part of RFC 6902, ignored by patch appliers */
  oldValue: z.unknown().optional(),
});

/** One event, as reports name it. `index` is its 0-based position in its trace (equal to seq for stored traces). */
export const EventRefSchema = z.object({
  index: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  type: z.string(),
  /** "llm_request gpt-4o-mini", "tool_call search" */
  label: z.string(),
});
export type EventRef = z.infer<typeof EventRefSchema>;

export const TimelineEventSchema = EventRefSchema.extend({
  timestamp: z.string(),
  /** the event's payload; values larger than the report's inline limit are replaced by a "[truncated …]" note */
  payload: z.unknown(),
});
export type TimelineEvent = z.infer<typeof TimelineEventSchema>;

export const DifferenceSchema = z.object({
  /** 1-based, in timeline order */
  id: z.number().int().positive(),
  class: DiffClassSchema,
  change: z.enum(['changed', 'added', 'removed', 'moved']),
  a: EventRefSchema.nullable(),
  b: EventRefSchema.nullable(),
  /** a short sentence a person can read without knowing retrace */
  sentence: z.string(),
  /** changed fields, human-readable (messages[2].content) */
  paths: z.array(z.string()),
  /** JSON Patch from A's event to B's (normalized: ignored paths removed); empty for added/removed events */
  patch: z.array(PatchOpSchema),
  /** a unified line diff, for text values (the content of a file the agent wrote) */
  textDiff: z.string().optional(),
});
export type Difference = z.infer<typeof DifferenceSchema>;

export const RowStatusSchema = z.enum(['same', 'equivalent', 'changed', 'added', 'removed', 'moved']);
export type RowStatus = z.infer<typeof RowStatusSchema>;

export const TimelineRowSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('event'),
    status: RowStatusSchema,
    a: TimelineEventSchema.nullable(),
    b: TimelineEventSchema.nullable(),
    differenceIds: z.array(z.number().int().positive()),
  }),
  /** a run of unchanged events left out of the timeline (long traces only) */
  z.object({
    kind: z.literal('gap'),
    count: z.number().int().positive(),
    a: z.object({ from: z.number().int(), to: z.number().int() }),
    b: z.object({ from: z.number().int(), to: z.number().int() }),
  }),
]);
export type TimelineRow = z.infer<typeof TimelineRowSchema>;

export const TraceTotalsSchema = z.object({
  events: z.number().int().nonnegative(),
  llmCalls: z.number().int().nonnegative(),
  toolCalls: z.number().int().nonnegative(),
  httpCalls: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** llm_response events without a price: their cost is not in costUsd */
  unpricedCalls: z.number().int().nonnegative(),
  /** sum of llm/tool/http response latencies */
  latencyMs: z.number().nonnegative(),
  /** wall time of the run: the terminal event's totals, else first to last timestamp; null for an empty trace */
  durationMs: z.number().nonnegative().nullable(),
  status: z.enum(['completed', 'failed', 'incomplete', 'empty']),
});
export type TraceTotals = z.infer<typeof TraceTotalsSchema>;

export const TraceSideSchema = z.object({
  /** "A" / "B" unless the caller names them ("recorded" / "replay") */
  label: z.string(),
  tenantId: z.string().nullable(),
  traceId: z.string().nullable(),
  /** events left out by an `ignore` policy (nondeterminism by default) */
  ignoredEvents: z.number().int().nonnegative(),
  totals: TraceTotalsSchema,
});
export type TraceSide = z.infer<typeof TraceSideSchema>;

export const FirstDivergenceSchema = z.object({
  differenceId: z.number().int().positive(),
  class: DiffClassSchema,
  a: EventRefSchema.nullable(),
  b: EventRefSchema.nullable(),
  /** "Event #7: the llm_request to gpt-4o-mini has a different prompt (messages[2].content)" */
  sentence: z.string(),
});
export type FirstDivergence = z.infer<typeof FirstDivergenceSchema>;

export const DiffReportSchema = z.object({
  kind: z.literal('retrace.diff'),
  version: z.literal(DIFF_REPORT_VERSION),
  verdict: VerdictSchema,
  /** one sentence: the verdict and the count of differences by class */
  summary: z.string(),
  a: TraceSideSchema,
  b: TraceSideSchema,
  firstDivergence: FirstDivergenceSchema.nullable(),
  /** count of differences per class (classes with none are omitted) */
  classCounts: z.partialRecord(DiffClassSchema, z.number().int().positive()),
  differences: z.array(DifferenceSchema),
  timeline: z.array(TimelineRowSchema),
  /** 'myers': exact alignment; 'positional': too many edits for the cap, the middle was paired up by position */
  alignment: z.enum(['myers', 'positional']),
  policy: z.string(),
});
export type DiffReport = z.infer<typeof DiffReportSchema>;
