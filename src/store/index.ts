export * from './types.js';
export {
  openStore,
  defaultStoreUrl,
  registerStoreBackend,
  type OpenStoreOptions,
  type StoreOpener,
} from './open-store.js';
export { SqliteEventStore, DEFAULT_SQLITE_PATH, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export {
  emptyTraceState,
  planAppend,
  validateBatch,
  checkExpectedRevision,
  statusOf,
  type TraceState,
} from './append-plan.js';
export { deriveStatus, writerIdentity } from './liveness.js';
export { verifyTrace, type VerifyResult, type VerifyProblem } from './verify.js';
