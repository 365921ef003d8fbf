import { createHash } from 'node:crypto';
import type { HrTime } from '@opentelemetry/api';

/**
 * Deterministic ids and time conversions between retrace and OTLP. Ids are derived by hashing, so exporting the same
 * trace twice gives the same OTel trace/span ids (a backend deduplicates), and importing the same OTLP twice gives the
 * same retrace trace and event ids (the import is idempotent).
 */

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** 32 hex chars: the OTel trace id of a retrace trace */
export function otelTraceIdOf(tenantId: string, traceId: string): string {
  return sha256Hex(`retrace-trace\0${tenantId}\0${traceId}`).slice(0, 32);
}

/** 16 hex chars: the OTel span id of the event at `seq` (the run span uses the agent_started seq) */
export function otelSpanIdOf(otelTraceId: string, seq: number): string {
  return sha256Hex(`retrace-span\0${otelTraceId}\0${seq}`).slice(0, 16);
}

/** The retrace trace id an imported OTel trace gets (an allowed trace id: [A-Za-z0-9._-]). */
export function retraceTraceIdOf(otelTraceId: string): string {
  return `otel_${otelTraceId.toLowerCase()}`;
}

/** A UUID-shaped event id (version nibble 8: "custom") derived from the OTel ids and the event's role. */
export function eventIdOf(otelTraceId: string, spanId: string, role: string): string {
  const h = sha256Hex(`retrace-event\0${otelTraceId}\0${spanId}\0${role}`);
  const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function isoToHrTime(iso: string): HrTime {
  const ms = Date.parse(iso);
  return msToHrTime(ms);
}

export function msToHrTime(ms: number): HrTime {
  const whole = Math.floor(ms);
  const seconds = Math.floor(whole / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

export function hrTimeDiff(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return seconds < 0 ? [0, 0] : [seconds, nanos];
}

/** OTLP nanoseconds (a decimal string in JSON) → milliseconds since the epoch, with sub-ms precision kept */
export function nanosToMs(nanos: bigint): number {
  return Number(nanos / 1000n) / 1000;
}

export function nanosToIso(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000n)).toISOString();
}
