import * as z from 'zod';
import { TRACE_ID_PATTERN } from '../events/ids.js';
import type { DiffReport } from '../diff/report-schema.js';
import type { StoredEvent } from '../events/envelope.js';
import type { TraceStatus, TraceSummary } from '../store/types.js';

/**
 * The inspector's JSON API contract: the zod schemas every request is parsed with (query strings arrive as text, so
 * numbers and booleans are coerced here) and the types of every answer. The browser UI (ui/) imports only the types,
 * so a hosted front end can be built against the same contract.
 */

const traceId = z.string().regex(TRACE_ID_PATTERN, 'must be a trace id (letters, digits, . _ -)');
const boolText = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const intText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** an ISO timestamp, or a duration back from now ("30m", "2h", "7d") */
const sinceText = z
  .string()
  .trim()
  .refine((v) => /^\d+[mhdw]$/.test(v) || !Number.isNaN(Date.parse(v)), 'must be an ISO time or a duration like 2h')
  .transform((v) => {
    const m = /^(\d+)([mhdw])$/.exec(v);
    return m ? new Date(Date.now() - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString() : v;
  });

export const TRACE_STATUSES = ['running', 'completed', 'failed', 'incomplete'] as const;

export const ListQuerySchema = z.strictObject({
  limit: intText(1, 200).default(50),
  cursor: z.string().min(1).max(2000).optional(),
  agent: z.string().trim().min(1).max(200).optional(),
  status: z.enum(TRACE_STATUSES).optional(),
  since: sinceText.optional(),
  model: z.string().trim().min(1).max(200).optional(),
  /** only replays whose run differs from their original, and originals with such a replay */
  divergent: boolText.optional(),
  /** case-insensitive text search over prompts, outputs, tool arguments and results */
  q: z.string().trim().min(1).max(500).optional(),
});
export type ListQuery = z.output<typeof ListQuerySchema>;

export const StepsQuerySchema = z.strictObject({
  from: intText(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: intText(1, 2000).default(500),
  /** show the recorded nondeterministic values (clock reads, random numbers), folded away by default */
  nondeterminism: boolText.default(false),
});
export type StepsQuery = z.output<typeof StepsQuerySchema>;

export const EventsQuerySchema = z.strictObject({
  from: intText(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: intText(1, 1000).default(200),
});
export type EventsQuery = z.output<typeof EventsQuerySchema>;

export const DiffQuerySchema = z.strictObject({
  a: traceId,
  b: traceId,
  /** compare only A's events up to this seq (the recording a "replay to here" stopped at) */
  untilA: intText(0, Number.MAX_SAFE_INTEGER).optional(),
});
export type DiffQuery = z.output<typeof DiffQuerySchema>;

export const ReplayRequestSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('all'), traceId }),
  z.strictObject({ mode: z.literal('until'), traceId, until: z.number().int().nonnegative() }),
  z.strictObject({
    mode: z.literal('override'),
    traceId,
    /** seq of the llm_request or llm_response whose response is replaced */
    seq: z.number().int().nonnegative(),
    /** the edited response body (non-streamed) or SSE text chunks (streamed) */
    body: z.unknown().optional(),
    chunks: z.array(z.string()).min(1).optional(),
    /** what a request after the edit that the recording cannot answer does */
    onMiss: z.enum(['error', 'nearest', 'live']).default('error'),
  }),
]);
export type ReplayRequest = z.output<typeof ReplayRequestSchema>;

/** One trace row of the list; replays of a trace on the same page are nested under it. */
export interface TraceRow extends TraceSummary {
  replays: TraceSummary[];
}

export interface TraceListPage {
  tenant: string;
  traces: TraceRow[];
  nextCursor: string | null;
  /** traces looked at to fill this page (text/model/divergence filters read events; the rest is a store query) */
  scanned: number;
}

export type StepKind = 'run' | 'llm' | 'tool' | 'http' | 'decision' | 'memory' | 'file' | 'nondeterminism' | 'end';

/** One row of the step tree. A request and its response are one step (seq: the request, responseSeq: the answer). */
export interface StepRow {
  seq: number;
  responseSeq: number | null;
  kind: StepKind;
  type: string;
  /** "gpt-4o-mini", "lookup_order", "GET api.example.com/x" */
  name: string;
  depth: number;
  /** ms since the trace started */
  startMs: number;
  durationMs: number | null;
  status: 'ok' | 'error' | 'pending';
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  preview: string;
}

export interface StepsPage {
  traceId: string;
  steps: StepRow[];
  /** pass as `from` for the next page; null at the end of the trace */
  nextFrom: number | null;
  lastSeq: number;
}

export interface TraceDetail {
  summary: TraceSummary;
  /** replays of this trace (any page of the store), newest first, at most 50 */
  replays: TraceSummary[];
  entry: string | null;
  startedAtMs: number | null;
}

export type ReplayJobState = 'running' | 'done' | 'failed';

export interface ReplayJob {
  id: string;
  request: ReplayRequest;
  state: ReplayJobState;
  startedAt: string;
  finishedAt: string | null;
  /** events the replay has written so far, and the recording's event count (the replay may stop earlier) */
  progress: { events: number; of: number; phase: 'starting' | 'running' | 'comparing' | 'done' };
  replayTraceId: string | null;
  verdict: 'identical' | 'equivalent' | 'diverged' | null;
  outcome: 'completed' | 'failed' | 'stopped' | null;
  firstDivergence: string | null;
  /** where the diff view of this job lives: /api/diff?… parameters */
  diff: { a: string; b: string; untilA?: number } | null;
  error: ApiErrorBody['error'] | null;
}

export interface EventDetail {
  event: StoredEvent;
  /** the response of a request, or the request of a response */
  pair: StoredEvent | null;
  curl: string | null;
  ndjson: string;
}

export interface EventsPage {
  traceId: string;
  events: StoredEvent[];
  nextFrom: number | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; hint: string; field?: string };
}

export type { DiffReport, TraceStatus, TraceSummary };
