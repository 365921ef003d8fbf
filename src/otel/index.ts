/** OpenTelemetry interop: GenAI-semconv export of retrace traces, and import of OTLP traces from instrumented agents. */
export { SEMCONV_VERSION } from './semconv.js';
export {
  spansOf,
  serializeOtlpJson,
  serializeOtlpProtobuf,
  sendSpans,
  type OtlpEndpoint,
  type OtlpProtocol,
} from './export.js';
export type { SpanMappingOptions } from './trace-to-spans.js';
export {
  detectTraceFileFormat,
  importOtlpFile,
  importTraces,
  mapTraces,
  readOtlpFile,
  type OtlpImportOptions,
  type OtlpImportOutcome,
  type TraceFileFormat,
} from './import.js';
export { createOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions } from './receiver.js';
export { createOtlpMirror, otlpMirrorOptionsFromEnv, type OtlpMirror, type OtlpMirrorOptions } from './mirror.js';
export { spansFromOtlpJson, type SpanRecord } from './spans.js';
export { decodeTraceRequest } from './protobuf-decode.js';
export { OtelPackagesMissingError, OtlpExportError } from './errors.js';
