import * as z from 'zod';

/**
 * Payload schemas, one per event type. Bodies of requests, responses, tool arguments and results are
 * opaque JSON (`z.unknown()`): they are whatever the provider or the agent produced, and validating their inner
 * shape here would reject legitimate new provider fields. Everything retrace itself reads is typed.
 */

export const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  /** e.g. ECONNREFUSED for network errors, or an HTTP status class for provider errors */
  code: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative().optional(),
  /** reasoning/thinking tokens, part of outputTokens, when the provider reports them */
  reasoningTokens: z.number().int().nonnegative().optional(),
  totalTokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const TotalsSchema = z.object({
  llmCalls: z.number().int().nonnegative(),
  toolCalls: z.number().int().nonnegative(),
  httpCalls: z.number().int().nonnegative().optional(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type Totals = z.infer<typeof TotalsSchema>;

/** Header values after redaction: lower-cased names, credentials replaced by "[REDACTED]". */
export const HeadersSchema = z.record(z.string(), z.string());

/** One chunk of a streamed (SSE) body, with its time since the response started, so replay can re-emit it. */
export const StreamChunkSchema = z.object({
  /** ms since the response headers arrived */
  t: z.number().nonnegative(),
  data: z.string(),
});
export type StreamChunk = z.infer<typeof StreamChunkSchema>;

/**
 * When a response happened relative to the others of its run, so a replay can release concurrent responses in the
 * order they completed (not the order they were issued) and move its virtual clock through the recorded wait.
 */
export const ResponseTimingSchema = {
  /** when the request was issued, ms since the run started */
  startMs: z.number().nonnegative().optional(),
  /** when the response headers arrived, ms since the request was issued */
  headersMs: z.number().nonnegative().optional(),
};

/** A response that ended before its body did: aborted by the agent (AbortSignal) or cut by the server. */
export const InterruptionSchema = z.object({
  by: z.enum(['client', 'server']),
  /** how many chunks (SSE events) had arrived when it ended */
  afterChunks: z.number().int().nonnegative(),
});
export type Interruption = z.infer<typeof InterruptionSchema>;

export const EnvironmentSchema = z.object({
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  retraceVersion: z.string(),
  hostname: z.string().optional(),
  cwd: z.string().optional(),
  /** the project (nearest package.json) the entry or script belongs to; `entry` and `argv[0]` are relative to it */
  projectRoot: z.string().optional(),
  /** zero-code mode: the command line that was recorded (argv[1..]) */
  argv: z.array(z.string()).optional(),
  /** allow-listed environment variables only; never secrets */
  env: z.record(z.string(), z.string()).optional(),
  packages: z.record(z.string(), z.string()).optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const AgentStartedSchema = z.object({
  agent: z.string().min(1).max(200),
  /** `path/to/module.js#exportName`, relative to `environment.projectRoot` (older traces: to `environment.cwd`);
   *  absent for zero-code traces */
  entry: z.string().max(4096).optional(),
  mode: z.enum(['api', 'process']).default('api'),
  input: z.unknown(),
  environment: EnvironmentSchema,
  /** set on a replay trace: the trace it re-executed */
  replayOf: z.object({ traceId: z.string(), until: z.number().int().optional() }).optional(),
  tags: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const LlmCommon = {
  /** 'openai' | 'anthropic' | 'openai-compatible' | … */
  provider: z.string().min(1),
  /** 'chat.completions' | 'responses' | 'embeddings' | 'messages' */
  operation: z.string().min(1),
  model: z.string(),
};

export const LlmRequestSchema = z.object({
  ...LlmCommon,
  method: z.string(),
  url: z.string(),
  headers: HeadersSchema,
  body: z.unknown(),
  stream: z.boolean(),
  /** sha256 of the canonical, normalized request (src/hashing/request-key.ts) */
  requestHash: z.string(),
  /** 0-based: the n-th request with this hash in the trace */
  occurrence: z.number().int().nonnegative(),
});

export const LlmResponseSchema = z.object({
  ...LlmCommon,
  /** HTTP status; 0 when the request failed before a response (network error) */
  status: z.number().int().nonnegative(),
  headers: HeadersSchema.optional(),
  /** trailing headers sent after the body (HTTP/2 trailers, e.g. gRPC's grpc-status), redacted like headers */
  trailers: HeadersSchema.optional(),
  /** parsed JSON body of a non-streamed response (or the text when it is not JSON) */
  body: z.unknown().optional(),
  chunks: z.array(StreamChunkSchema).optional(),
  usage: UsageSchema.optional(),
  /** null when the model has no price in the pricing table */
  costUsd: z.number().nonnegative().nullable(),
  latencyMs: z.number().nonnegative(),
  finishReason: z.string().optional(),
  error: ErrorInfoSchema.optional(),
  ...ResponseTimingSchema,
  interrupted: InterruptionSchema.optional(),
});

export const ToolCallSchema = z.object({
  tool: z.string().min(1).max(200),
  args: z.unknown(),
  /** object-hash of the arguments (src/hashing/tool-key.ts) */
  argsHash: z.string(),
  occurrence: z.number().int().nonnegative(),
  pure: z.boolean().optional(),
});

export const ToolResponseSchema = z.object({
  tool: z.string().min(1).max(200),
  result: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
  latencyMs: z.number().nonnegative(),
  /** when the tool was called, ms since the run started */
  startMs: z.number().nonnegative().optional(),
});

export const DecisionMadeSchema = z.object({
  decision: z.string().min(1),
  reason: z.string().optional(),
  data: z.unknown().optional(),
});

export const MemoryUpdatedSchema = z.object({
  key: z.string().min(1),
  operation: z.enum(['set', 'append', 'delete', 'clear']).default('set'),
  value: z.unknown().optional(),
});

export const HttpRequestSchema = z.object({
  method: z.string(),
  url: z.string(),
  headers: HeadersSchema,
  /** text body; binary bodies are base64 with bodyEncoding 'base64' */
  body: z.string().optional(),
  bodyEncoding: z.enum(['utf8', 'base64']).default('utf8'),
  requestHash: z.string(),
  occurrence: z.number().int().nonnegative(),
});

export const HttpResponseSchema = z.object({
  status: z.number().int().nonnegative(),
  statusText: z.string().optional(),
  headers: HeadersSchema.optional(),
  /** trailing headers sent after the body (HTTP/2 trailers, e.g. gRPC's grpc-status), redacted like headers */
  trailers: HeadersSchema.optional(),
  body: z.string().optional(),
  bodyEncoding: z.enum(['utf8', 'base64']).default('utf8'),
  chunks: z.array(StreamChunkSchema).optional(),
  latencyMs: z.number().nonnegative(),
  error: ErrorInfoSchema.optional(),
  ...ResponseTimingSchema,
  interrupted: InterruptionSchema.optional(),
});

/**
 * A file the agent wrote under its project tree (fs / fs/promises). The path is relative to the project root (the
 * run's working directory), with forward slashes; content is kept up to a cap, redacted like any payload.
 */
export const FileWrittenSchema = z.object({
  op: z.enum(['writeFile', 'appendFile', 'mkdir', 'rename', 'rm', 'createWriteStream']),
  path: z.string().min(1).max(4096),
  /** rename: the new path */
  to: z.string().min(1).max(4096).optional(),
  /** bytes written by this operation (writeFile, appendFile, createWriteStream) */
  size: z.number().int().nonnegative().optional(),
  /** sha256 (hex) of the bytes written by this operation */
  sha256: z.string().optional(),
  /** the bytes written, when at most the cap (utf8 text, or base64 with contentEncoding 'base64') */
  content: z.string().optional(),
  contentEncoding: z.enum(['utf8', 'base64']).optional(),
  /** true when the content was over the cap and is not kept (size and sha256 still are) */
  contentOmitted: z.boolean().optional(),
});

/**
 * The nondeterministic values the agent observed, in order, per source, so that replay can serve them back.
 * Recorded compactly: one event per flush, many values per event.
 */
export const NondeterminismSourceSchema = z.enum([
  'Date.now',
  'Date',
  'performance.now',
  'Math.random',
  'crypto.randomUUID',
  'crypto.getRandomValues',
  'env',
]);

/** What one environment variable held when the agent first read it. */
export const EnvReadSchema = z.union([
  z.strictObject({ value: z.string() }),
  /** a credential (by name or by the shape of its value): present, value not kept; replay serves a placeholder */
  z.strictObject({ redacted: z.literal(true) }),
  /** read, but not set */
  z.strictObject({ absent: z.literal(true) }),
]);
export type EnvRead = z.infer<typeof EnvReadSchema>;

export const NondeterminismSchema = z.object({
  source: NondeterminismSourceSchema,
  /** numbers for clocks and Math.random, strings for UUIDs, base64 strings for getRandomValues; for `env` the names
   *  of the variables read, in the order of their first read */
  values: z.array(z.union([z.number(), z.string()])),
  /** source `env` only: what each variable in `values` held at its first read. Served back by name, not in order. */
  env: z.record(z.string(), EnvReadSchema).optional(),
});

export const AgentCompletedSchema = z.object({
  output: z.unknown(),
  totals: TotalsSchema,
});

export const AgentFailedSchema = z.object({
  error: ErrorInfoSchema,
  totals: TotalsSchema,
});

export const PAYLOAD_SCHEMAS = {
  agent_started: AgentStartedSchema,
  llm_request: LlmRequestSchema,
  llm_response: LlmResponseSchema,
  tool_call: ToolCallSchema,
  tool_response: ToolResponseSchema,
  decision_made: DecisionMadeSchema,
  memory_updated: MemoryUpdatedSchema,
  http_request: HttpRequestSchema,
  http_response: HttpResponseSchema,
  nondeterminism: NondeterminismSchema,
  file_written: FileWrittenSchema,
  agent_completed: AgentCompletedSchema,
  agent_failed: AgentFailedSchema,
} as const;

export type EventType = keyof typeof PAYLOAD_SCHEMAS;
export const EVENT_TYPES = Object.keys(PAYLOAD_SCHEMAS) as EventType[];
export type PayloadOf<T extends EventType> = z.output<(typeof PAYLOAD_SCHEMAS)[T]>;
export type PayloadInputOf<T extends EventType> = z.input<(typeof PAYLOAD_SCHEMAS)[T]>;

/** request type → the response type that must answer it (by parentEventId) */
export const RESPONSE_OF = {
  llm_response: 'llm_request',
  tool_response: 'tool_call',
  http_response: 'http_request',
} as const satisfies Partial<Record<EventType, EventType>>;
export const REQUEST_TYPES = new Set<EventType>(['llm_request', 'tool_call', 'http_request']);
export const TERMINAL_TYPES = new Set<EventType>(['agent_completed', 'agent_failed']);
