/** The replay engine: re-run a recorded agent in a sandbox, answering from the recording. */
export { replayTrace, type ReplayOptions, type ReplayResult } from './replay.js';
export {
  replayTraces,
  type ReplayTracesOptions,
  type TraceReplayOutcome,
  type ReplayErrorInfo,
} from './batch.js';
export { buildReplayCache, type BuildCacheOptions } from './cache/build.js';
export { ReplayCache, type NearestExchange } from './cache/lookup.js';
export type {
  ReplayCacheData,
  RecordedExchange,
  RecordedToolCall,
  RecordedHttpResponse,
  RecordedToolAnswer,
} from './cache/types.js';
export { ON_MISS_POLICIES, OnMissPolicySchema, type OnMissPolicy } from './on-miss.js';
export {
  createReplayHooks,
  type ReplayMiss,
  type ReplayHooksOptions,
  type ReplayNotice,
  type ResolvedOverride,
} from './hooks.js';
export {
  compareReplay,
  REPLAY_DIFF_POLICY,
  REPLAY_LABELS,
  type ReplayVerdict,
  type ReplayDivergence,
  type ReplayComparison,
} from './comparison.js';
export { resolveOverride, ResponseOverrideSchema, type ResponseOverride } from './override.js';
export { resolveEntry, type ResolvedEntry } from './entry.js';
export * from './errors.js';
