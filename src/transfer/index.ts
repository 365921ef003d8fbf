/** Trace files: NDJSON read (every line checked), written whole or not at all, imported idempotently; golden sets. */
export { readTraceFile, writeNdjson, writeNdjsonFile, type FileTrace, type TextSink } from './ndjson.js';
export { NoGoldenFilesError } from './errors.js';
export { planImport, importTraces, type ImportDecision, type ImportOutcome } from './import.js';
export {
  findGoldenFiles,
  expandGlob,
  loadGoldens,
  selectShard,
  displayPath,
  compareCodeUnits,
  type GoldenTrace,
  type Shard,
} from './goldens.js';
