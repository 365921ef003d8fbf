/** The recorder hook: capture agent runs from the official SDKs without changing agent code. */
export {
  createRecorder,
  type Recorder,
  type RecorderOptions,
  type RunOptions,
  type RunContext,
  type RunResult,
  type ToolOptions,
  type RecordedEventType,
} from './recorder.js';
export type {
  EventSink,
  ReplayHooks,
  InterceptedRequest,
  ToolCallInfo,
  ToolAnswer,
  NondeterminismSource,
} from './hooks.js';
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
} from './pricing.js';
export {
  REDACTED,
  SECRET_HEADER_NAMES,
  isSecretHeader,
  redactString,
  redactUrl,
  redactHeaders,
  redactValue,
  redactBodyText,
  redactEventDefaults,
  type RedactHook,
} from './redact.js';
export { allowListedEnv } from './environment.js';
export { toJsonSafe, errorInfo, errorFromInfo } from './serialize.js';
