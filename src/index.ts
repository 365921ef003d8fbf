/**
 * agent-retrace: a flight recorder and time-travel debugger for AI agents.
 *
 * The public API, named export by export (docs/api.md describes each group). Anything not exported here is internal
 * and may change in any release; the folders' own index files are for code inside the package.
 */

// ── Errors: every error retrace throws on purpose has a stable `code` and a `hint` ──────────────────────────────────
export {
  RetraceError,
  isRetraceError,
  ValidationError,
  InvalidIdError,
  EventTooLargeError,
  TraceTooLargeError,
  LifecycleError,
  ConcurrencyError,
  DuplicateEventIdError,
  TraceNotFoundError,
  StoreError,
  NotARetraceStoreError,
  StoreCorruptError,
  ReadOnlyStoreError,
  UnsupportedStoreUrlError,
  CorruptEventError,
  InputFileError,
  OutputFileError,
  type ExitCategory,
} from './errors.js';

// ── Recording ───────────────────────────────────────────────────────────────────────────────────────────────────────
export {
  createRecorder,
  type Recorder,
  type RecorderOptions,
  type RunOptions,
  type RunContext,
  type RunResult,
  type ToolOptions,
  type RecordedEventType,
} from './recorder/recorder.js';
export type { EventSink } from './recorder/hooks.js';
export { REDACTED, type RedactHook } from './recorder/redact.js';
export {
  loadPricing,
  shippedPricing,
  parsePricingFile,
  PricingTable,
  PricingFileSchema,
  ModelPriceSchema,
  type PricingFile,
  type ModelPrice,
  type PricingInput,
  type UsageForCost,
} from './recorder/pricing.js';
export type { ProviderBaseUrl, ProviderKind } from './hashing/providers.js';
export type { NormalizationOptions } from './hashing/request-key.js';

// ── The event model ─────────────────────────────────────────────────────────────────────────────────────────────────
export {
  SCHEMA_VERSION,
  GENESIS_HASH,
  NewEventSchema,
  StoredEventSchema,
  toNewEvent,
  type NewEvent,
  type StoredEvent,
  type StoredEventOf,
} from './events/envelope.js';
export {
  EVENT_TYPES,
  PAYLOAD_SCHEMAS,
  ErrorInfoSchema,
  UsageSchema,
  TotalsSchema,
  type EventType,
  type PayloadOf,
  type PayloadInputOf,
  type ErrorInfo,
  type Usage,
  type Totals,
  type StreamChunk,
  type Environment,
} from './events/payloads.js';
export {
  DEFAULT_TENANT,
  TRACE_ID_PATTERN,
  TENANT_ID_PATTERN,
  assertTraceId,
  assertTenantId,
  newTraceId,
  newEventId,
} from './events/ids.js';
export { parseNewEvent, safeParseStoredEvent } from './events/validate.js';
export { eventJsonSchema } from './events/json-schema.js';
export { eventHash, ChainVerifier, type ChainBreak, type ChainLink } from './hashing/chain.js';

// ── Stores ──────────────────────────────────────────────────────────────────────────────────────────────────────────
export {
  openStore,
  defaultStoreUrl,
  registerStoreBackend,
  type OpenStoreOptions,
  type StoreOpener,
} from './store/open-store.js';
export { SqliteEventStore, DEFAULT_SQLITE_PATH, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
export {
  LIMITS,
  type EventStore,
  type ExpectedRevision,
  type AppendOptions,
  type AppendedPosition,
  type AppendResult,
  type ReadRange,
  type TraceStatus,
  type TraceSummary,
  type ListFilter,
  type TracePage,
} from './store/types.js';
export { verifyTrace, type VerifyResult, type VerifyProblem } from './store/verify.js';

// ── Trace files (NDJSON) and golden sets ────────────────────────────────────────────────────────────────────────────
export { readTraceFile, writeNdjson, writeNdjsonFile, type FileTrace, type TextSink } from './transfer/ndjson.js';
export { planImport, importTraces, type ImportDecision, type ImportOutcome } from './transfer/import.js';
export { findGoldenFiles, loadGoldens, selectShard, type GoldenTrace, type Shard } from './transfer/goldens.js';
export { NoGoldenFilesError } from './transfer/errors.js';

// ── Replay ──────────────────────────────────────────────────────────────────────────────────────────────────────────
export { replayTrace, type ReplayOptions, type ReplayResult } from './replay/replay.js';
export {
  replayTraces,
  type ReplayTracesOptions,
  type TraceReplayOutcome,
  type ReplayErrorInfo,
} from './replay/batch.js';
export {
  compareReplay,
  REPLAY_DIFF_POLICY,
  REPLAY_LABELS,
  type ReplayComparison,
  type ReplayVerdict,
  type ReplayDivergence,
} from './replay/comparison.js';
export { ON_MISS_POLICIES, OnMissPolicySchema, type OnMissPolicy } from './replay/on-miss.js';
export type { ReplayMiss } from './replay/hooks.js';
export { ResponseOverrideSchema, type ResponseOverride } from './replay/override.js';
export {
  NoAgentEntryError,
  EntryNotFoundError,
  EntryExportMissingError,
  EntryLoadError,
  OverrideInvalidError,
  ReplayOptionError,
  SandboxError,
  SandboxTimeoutError,
  SandboxOutOfMemoryError,
  SandboxCrashedError,
  SandboxStartError,
  SandboxProtocolError,
  TraceNotReplayableError,
  ReplayMissError,
  ReplayStoppedError,
} from './replay/errors.js';

// ── Diff ────────────────────────────────────────────────────────────────────────────────────────────────────────────
export { diffTraces, type DiffOptions } from './diff/diff-traces.js';
export {
  DIFF_REPORT_VERSION,
  DIFF_CLASSES,
  DiffReportSchema,
  VerdictSchema,
  type DiffReport,
  type DiffClass,
  type Verdict,
  type Difference,
  type EventRef,
  type FirstDivergence,
  type TimelineRow,
  type TimelineEvent,
  type TraceSide,
  type TraceTotals,
  type RowStatus,
} from './diff/report-schema.js';
export {
  DiffPolicySchema,
  parsePolicy,
  loadPolicyFile,
  mergePolicies,
  IDENTITY_FIELDS,
  type DiffPolicy,
  type TypeRule,
  type TimingRule,
} from './diff/policy.js';
export { diffJson, type PatchOp } from './diff/json-diff.js';
export { DiffPolicyError, CrossTenantDiffError, DiffOptionError } from './diff/errors.js';
export type { TraceSource, StoredTraceRef } from './diff/sources.js';
export { CLASS_TITLES } from './diff/classify.js';
export { renderJson } from './diff/render/json.js';
export { renderMarkdown, type MarkdownOptions } from './diff/render/markdown.js';
export { renderHtml, type HtmlOptions } from './diff/render/html.js';
export { renderJunit, type JunitOptions } from './diff/render/junit.js';
export { diffReportJsonSchema } from './diff/json-schema.js';
