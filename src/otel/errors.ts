import { RetraceError } from '../errors.js';

/** OTLP export needs the official OpenTelemetry packages, which are optional peers of agent-retrace. */
export class OtelPackagesMissingError extends RetraceError {
  readonly code = 'OTEL_PACKAGES_MISSING';
  constructor(missing: string, options?: { cause?: unknown }) {
    super(
      `OpenTelemetry export needs the package "${missing}", which is not installed.`,
      `Install the OpenTelemetry exporter packages next to agent-retrace: npm install ${OTEL_PEERS.join(' ')}`,
      'environment',
      options,
    );
  }
}

/** The endpoint refused or could not be reached. Nothing stored is affected. */
export class OtlpExportError extends RetraceError {
  readonly code = 'OTLP_EXPORT_FAILED';
  constructor(endpoint: string, reason: string, options?: { cause?: unknown }) {
    super(
      `Could not send spans to ${endpoint}: ${reason}.`,
      'Check the URL (OTLP/HTTP traces usually end in /v1/traces), that the collector is running, and any --otlp-header it needs (e.g. authorization).',
      'environment',
      options,
    );
  }
}

export const OTEL_PEERS = [
  '@opentelemetry/api@^1.9.0',
  '@opentelemetry/resources@^2.12.1',
  '@opentelemetry/otlp-transformer@^0.223.1',
  '@opentelemetry/exporter-trace-otlp-http@^0.223.1',
  '@opentelemetry/exporter-trace-otlp-proto@^0.223.1',
] as const;
