import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { StoredEvent } from '../events/envelope.js';
import { OtelPackagesMissingError, OtlpExportError } from './errors.js';
import type { SpanMappingOptions } from './trace-to-spans.js';

/**
 * Serialising and sending spans with the official OpenTelemetry packages (otlp-transformer's serializers, the OTLP/HTTP
 * exporters). They are optional peers, loaded on first use, so an install that never exports pays nothing for them.
 */

export type OtlpProtocol = 'http/json' | 'http/protobuf';

export interface OtlpEndpoint {
  /** full URL of the traces endpoint, e.g. http://localhost:4318/v1/traces */
  url: string;
  headers?: Record<string, string>;
  protocol?: OtlpProtocol;
  timeoutMs?: number;
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function load<T>(name: string, loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (err) {
    if (isMissingModule(err)) throw new OtelPackagesMissingError(name, { cause: err });
    throw err;
  }
}

/** The spans of one or more traces (each as its stored events, in order). */
export async function spansOf(
  traces: readonly (readonly StoredEvent[])[],
  options: SpanMappingOptions = {},
): Promise<ReadableSpan[]> {
  const { traceToSpans } = await load('@opentelemetry/api', () => import('./trace-to-spans.js'));
  return traces.flatMap((events) => traceToSpans(events, options));
}

/** OTLP/JSON bytes of an ExportTraceServiceRequest holding these spans. */
export async function serializeOtlpJson(spans: ReadableSpan[]): Promise<Uint8Array> {
  const { JsonTraceSerializer } = await load(
    '@opentelemetry/otlp-transformer',
    () => import('@opentelemetry/otlp-transformer'),
  );
  return JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array();
}

/** OTLP/protobuf bytes of an ExportTraceServiceRequest holding these spans. */
export async function serializeOtlpProtobuf(spans: ReadableSpan[]): Promise<Uint8Array> {
  const { ProtobufTraceSerializer } = await load(
    '@opentelemetry/otlp-transformer',
    () => import('@opentelemetry/otlp-transformer'),
  );
  return ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array();
}

/** Sends spans to an OTLP/HTTP endpoint with the official exporter; resolves when the endpoint accepted them. */
export async function sendSpans(spans: ReadableSpan[], endpoint: OtlpEndpoint): Promise<void> {
  const config = {
    url: endpoint.url,
    headers: endpoint.headers ?? {},
    timeoutMillis: endpoint.timeoutMs ?? 10_000,
  };
  const exporter =
    endpoint.protocol === 'http/json'
      ? new (
          await load('@opentelemetry/exporter-trace-otlp-http', () => import('@opentelemetry/exporter-trace-otlp-http'))
        ).OTLPTraceExporter(config)
      : new (
          await load(
            '@opentelemetry/exporter-trace-otlp-proto',
            () => import('@opentelemetry/exporter-trace-otlp-proto'),
          )
        ).OTLPTraceExporter(config);
  try {
    await new Promise<void>((resolve, reject) => {
      exporter.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0
        if (result.code === 0) resolve();
        else
          reject(
            new OtlpExportError(endpoint.url, result.error?.message ?? 'the exporter reported a failure', {
              cause: result.error,
            }),
          );
      });
    });
  } finally {
    await exporter.shutdown().catch(() => undefined);
  }
}
