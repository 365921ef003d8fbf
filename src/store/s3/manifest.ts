import * as z from 'zod';
import { StoreCorruptError } from '../../errors.js';
import { TENANT_ID_PATTERN, TRACE_ID_PATTERN } from '../../events/ids.js';
import type { TraceSummary } from '../types.js';

/**
 * The manifest of one archived trace. Written after its data object and checked against it on every read, so a
 * damaged, truncated or swapped object is an error, never a partial trace.
 */
const sha = z.string().regex(/^[0-9a-f]{64}$/);

export const ArchiveManifestSchema = z
  .object({
    format: z.literal('retrace-archive'),
    version: z.literal(1),
    tenantId: z.string().regex(TENANT_ID_PATTERN),
    traceId: z.string().regex(TRACE_ID_PATTERN),
    /** key of the data object, relative to the bucket */
    objectKey: z.string().min(1),
    eventCount: z.number().int().positive(),
    firstSeq: z.number().int().nonnegative(),
    lastSeq: z.number().int().nonnegative(),
    /** hash of the last event: the tip of the hash chain */
    lastHash: sha,
    /** sha256 of the uncompressed NDJSON */
    sha256: sha,
    uncompressedBytes: z.number().int().positive(),
    compressedBytes: z.number().int().positive(),
    archivedAt: z.iso.datetime({ offset: true }),
    // listing fields, so `list` on the archive needs no data object
    agent: z.string().nullable(),
    status: z.enum(['completed', 'failed', 'incomplete']),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    inputTokens: z.number().nonnegative(),
    outputTokens: z.number().nonnegative(),
    costUsd: z.number().nonnegative(),
    replayOf: z.string().nullable(),
  })
  .refine((m) => m.lastSeq - m.firstSeq + 1 === m.eventCount, {
    message: 'eventCount does not match firstSeq..lastSeq',
  });
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;

export function parseManifest(body: Buffer, where: string): ArchiveManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new StoreCorruptError(
      `The archive manifest ${where} is not valid JSON.`,
      'Re-archive the trace from a hot store, or restore the manifest from a bucket version.',
      { cause: err },
    );
  }
  const parsed = ArchiveManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoreCorruptError(
      `The archive manifest ${where} is not valid (${issue?.path.join('.') || 'manifest'}: ${issue?.message ?? 'invalid'}).`,
      'It was not written by retrace, or it was altered; re-archive the trace from a hot store.',
    );
  }
  return parsed.data;
}

export function summaryOfManifest(m: ArchiveManifest): TraceSummary {
  return {
    tenantId: m.tenantId,
    traceId: m.traceId,
    agent: m.agent,
    status: m.status,
    eventCount: m.eventCount,
    lastSeq: m.lastSeq,
    startedAt: m.startedAt,
    endedAt: m.endedAt,
    durationMs: m.durationMs,
    inputTokens: m.inputTokens,
    outputTokens: m.outputTokens,
    costUsd: m.costUsd,
    replayOf: m.replayOf,
  };
}
