import * as z from 'zod';
import type { NormalizationOptions } from '../../hashing/request-key.js';
import type { ReplayCacheData } from '../cache/types.js';
import { OnMissPolicySchema } from '../on-miss.js';

/**
 * Every message between the replay engine (parent, launch.ts) and the sandbox runtime (child, sandbox/runtime.ts),
 * validated with zod on receipt on both sides. The child is untrusted: a message that fails its schema ends the
 * replay as a protocol error. This module is the wire format only (zod, no Node APIs), so both sides import it.
 */

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;

const ErrorInfo = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
});

const PatchOp = z.object({
  op: z.enum(['add', 'remove', 'replace']),
  path: z.string(),
  value: z.unknown().optional(),
  oldValue: z.unknown().optional(),
});

export const ReplayMissSchema = z.object({
  kind: z.enum(['llm', 'http', 'tool']),
  policy: OnMissPolicySchema,
  position: z.number().int().nonnegative(),
  request: z.object({
    method: z.string().optional(),
    url: z.string().optional(),
    target: z.string().optional(),
    tool: z.string().optional(),
    requestHash: z.string().optional(),
    argsHash: z.string().optional(),
    occurrence: z.number().int().nonnegative(),
  }),
  nearest: z
    .object({
      seq: z.number().int(),
      index: z.number().int(),
      requestHash: z.string().optional(),
      occurrence: z.number().int(),
    })
    .optional(),
  diff: z.array(PatchOp),
  servedSeq: z.number().int().optional(),
  message: z.string(),
});

export const NoticeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('miss'), miss: ReplayMissSchema }),
  z.object({ type: z.literal('until-reached'), seq: z.number().int() }),
  z.object({ type: z.literal('forked'), atSeq: z.number().int() }),
  z.object({ type: z.literal('override-served'), requestSeq: z.number().int() }),
]);

const ProviderBaseUrl = z.object({
  baseUrl: z.string(),
  /** a provider name as recorded (src/providers/index.ts providerByName) */
  provider: z.string().min(1).max(100),
});

export const JobSchema = z.object({
  /** api: call module#export under recorder.run; process: run a script as the main module (zero-code);
   *  raw: call module#export with no recorder at all (sandbox self-tests) */
  kind: z.enum(['api', 'process', 'raw']),
  /** the module to import (for a TypeScript agent: its transpiled bundle, see transpile.ts) */
  file: z.string(),
  /** the agent's own path, as the script sees itself in process.argv[1] (default: file) */
  scriptPath: z.string().optional(),
  exportName: z.string().optional(),
  /** zero-code: argv[2..] for the script */
  args: z.array(z.string()).default([]),
  input: z.unknown(),
  agent: z.string(),
  entry: z.string().optional(),
  tenant: z.string(),
  traceId: z.string(),
  replayOf: z.object({ traceId: z.string(), until: z.number().int().optional() }),
  /** built by the parent from the recorded trace (src/replay/cache/build.ts); the parent is trusted */
  cache: z.custom<ReplayCacheData>(isObject, 'must be the replay cache'),
  onMiss: OnMissPolicySchema,
  fast: z.boolean(),
  until: z.number().int().nonnegative().optional(),
  override: z
    .object({
      requestSeq: z.number().int(),
      status: z.number().int().optional(),
      body: z.unknown().optional(),
      chunks: z.array(z.string()).optional(),
    })
    .optional(),
  normalization: z.custom<NormalizationOptions>(isObject).optional(),
  providers: z.array(ProviderBaseUrl).default([]),
  /** absolute temp dir, the only writable place */
  tempDir: z.string(),
  /** the agent's process.env view (the sandbox process's own environment is fixed, see child-env.ts) */
  agentEnv: z.record(z.string(), z.string()).default({}),
  /** zero-code stdout kept in agent_completed (bytes; 0: none) */
  stdoutLimit: z.number().int().nonnegative().default(65_536),
  /** the per-launch key that seals what the child sends (seal.ts) */
  sealKey: z.string().regex(/^[0-9a-f]{64}$/),
  /** project-relative paths the recorded run wrote: in replay they are read from the overlay, never the host */
  recordedWrites: z.array(z.string().max(4096)).max(100_000).default([]),
});
export type SandboxJob = z.output<typeof JobSchema>;
export type SandboxJobInput = z.input<typeof JobSchema>;

export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), job: JobSchema }),
  z.object({
    type: z.literal('append-result'),
    id: z.number().int(),
    ok: z.boolean(),
    result: z
      .object({
        nextExpectedRevision: z.number().int(),
        positions: z.array(z.object({ eventId: z.string(), seq: z.number().int(), duplicate: z.boolean() })),
      })
      .optional(),
    error: ErrorInfo.optional(),
  }),
]);
export type ParentMessage = z.output<typeof ParentMessageSchema>;

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({
    type: z.literal('append'),
    id: z.number().int(),
    events: z.array(z.record(z.string(), z.unknown())).max(100_000),
    expectedRevision: z.union([z.literal('no_stream'), z.literal('any'), z.number().int()]).optional(),
  }),
  z.object({ type: z.literal('notice'), notice: NoticeSchema }),
  z.object({ type: z.literal('net-refused'), target: z.string() }),
  z.object({
    type: z.literal('entry-error'),
    reason: z.enum(['export-missing', 'load-failed']),
    file: z.string(),
    exportName: z.string().optional(),
    available: z.array(z.string()).default([]),
    message: z.string(),
  }),
  z.object({
    type: z.literal('done'),
    outcome: z.enum(['completed', 'failed']),
    output: z.unknown().optional(),
    error: ErrorInfo.optional(),
    remainingValues: z.record(z.string(), z.number()).default({}),
  }),
]);
export type ChildMessage = z.output<typeof ChildMessageSchema>;

/** What actually travels from the child: a message (or journal line) with its position and seal (seal.ts). */
export const SealedSchema = z.object({
  n: z.number().int().nonnegative(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
  body: z.unknown(),
});
export type Sealed = z.output<typeof SealedSchema>;
export type ChildMessageInput = z.input<typeof ChildMessageSchema>;
