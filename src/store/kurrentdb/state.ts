import * as z from 'zod';
import { StoreCorruptError } from '../../errors.js';
import type { LifecycleSnapshot } from '../../events/lifecycle.js';
import type { TraceState } from '../append-plan.js';
import { deriveStatus } from '../liveness.js';
import type { TraceSummary } from '../types.js';

/**
 * What the KurrentDB backend keeps besides the events themselves, and the zod schemas that check it on every read
 * (it comes back from a server that other programs can write to).
 *
 * 1. Trace state in event metadata. The last event of every append carries, in its KurrentDB metadata, the trace state
 *    after it (lifecycle snapshot, aggregates, hash-chain tail) plus `base` (the revision of seq 0). Loading a trace's
 *    state is one backwards read of one event, atomic with the append that wrote it — stream metadata would be a
 *    second, non-atomic write whose expectedRevision the KurrentDB client ignores.
 * 2. A per-tenant index stream (see naming.ts) with one entry when a trace is created, one when it ends and one when
 *    it is deleted, so `list` reads O(traces), not O(events), and works without server-side projections.
 */
const LifecycleSchema = z.object({
  value: z.enum(['empty', 'running', 'ended']),
  context: z.object({
    open: z.record(z.string(), z.enum(['llm_request', 'tool_call', 'http_request'])),
    outcome: z.enum(['completed', 'failed']).nullable(),
  }),
});

const TraceStateSchema = z.object({
  lastSeq: z.number().int().min(-1),
  lastHash: z.string().regex(/^[0-9a-f]{64}$/),
  eventCount: z.number().int().nonnegative(),
  totalBytes: z.number().nonnegative(),
  lifecycle: LifecycleSchema,
  agent: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  replayOf: z.string().nullable(),
});

export const TraceMetaSchema = z.object({
  retrace: z.literal(1),
  /** decimal bigint: the revision of this trace's seq 0 */
  base: z.string().regex(/^\d+$/),
  state: TraceStateSchema,
  writer: z.object({ pid: z.number().int().nullable(), host: z.string().nullable() }),
  updatedAt: z.string(),
});
export type TraceMeta = z.infer<typeof TraceMetaSchema>;

export interface LoadedState {
  state: TraceState;
  base: bigint;
  writer: { pid: number | null; host: string | null };
  updatedAt: string;
}

export function encodeTraceMeta(s: LoadedState): TraceMeta {
  return { retrace: 1, base: s.base.toString(), state: { ...s.state }, writer: s.writer, updatedAt: s.updatedAt };
}

export function decodeTraceMeta(raw: unknown, where: string): LoadedState {
  const parsed = TraceMetaSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StoreCorruptError(
      `The trace state stored with ${where} is not one retrace wrote (${parsed.error.issues[0]?.message ?? 'invalid'}).`,
      'Something other than retrace appended to this stream; read it with `retrace verify`, or restore it from an archive.',
    );
  }
  const m = parsed.data;
  return {
    state: { ...m.state, lifecycle: m.state.lifecycle as LifecycleSnapshot },
    base: BigInt(m.base),
    writer: m.writer,
    updatedAt: m.updatedAt,
  };
}

export function summaryFromState(
  tenantId: string,
  traceId: string,
  s: LoadedState,
  stored: 'running' | 'completed' | 'failed',
): TraceSummary {
  const st = s.state;
  const status = deriveStatus(stored, { pid: s.writer.pid, host: s.writer.host, updatedAt: s.updatedAt });
  const durationMs = st.startedAt && st.endedAt ? Date.parse(st.endedAt) - Date.parse(st.startedAt) : null;
  return {
    tenantId,
    traceId,
    agent: st.agent,
    status,
    eventCount: st.eventCount,
    lastSeq: st.lastSeq,
    startedAt: st.startedAt,
    endedAt: st.endedAt,
    durationMs,
    inputTokens: st.inputTokens,
    outputTokens: st.outputTokens,
    costUsd: st.costUsd,
    replayOf: st.replayOf,
  };
}

export const INDEX_EVENT_TYPES = {
  registered: 'retrace.trace_registered',
  ended: 'retrace.trace_ended',
  deleted: 'retrace.trace_deleted',
} as const;

const StoredSummarySchema = z.object({
  agent: z.string().nullable(),
  status: z.enum(['running', 'completed', 'failed']),
  eventCount: z.number().int().nonnegative(),
  lastSeq: z.number().int().min(-1),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  replayOf: z.string().nullable(),
});

export const IndexEntrySchema = z.object({
  traceId: z.string(),
  kind: z.enum(['registered', 'ended', 'deleted']),
  /** absent on `deleted` */
  summary: StoredSummarySchema.optional(),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;
