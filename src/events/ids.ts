import { randomUUID } from 'node:crypto';
import { InvalidIdError } from '../errors.js';

/**
 * Trace and tenant ids are untrusted (they arrive from CLI arguments, HTTP headers, file names) and they end up in
 * SQL parameters, KurrentDB stream names and S3 keys. So the alphabet is deliberately small:
 *   - trace id:  1–128 chars of [A-Za-z0-9._-], starting with a letter or digit
 *   - tenant id: 1–64  chars of [A-Za-z0-9._-], starting with a letter or digit
 * No slash, no backslash, no whitespace or control characters, no leading dot: an id can never name a parent directory
 * or another tenant's key prefix. Documented in README "Ids".
 */
export const TRACE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** event ids are UUIDs (any version), lower or upper case */
export const EVENT_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const DEFAULT_TENANT = 'default';

function describeBadId(value: unknown, max: number): string {
  if (typeof value !== 'string') return `it is a ${value === null ? 'null' : typeof value}, not a string`;
  if (value.length === 0) return 'it is empty';
  if (value.length > max) return `it is ${value.length} characters long (at most ${max})`;
  if (value.includes('/') || value.includes('\\')) return 'it contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'it contains a control character';
  if (/[^\u0000-\u007f]/.test(value)) return 'it contains a non-ASCII character';
  if (!/^[A-Za-z0-9]/.test(value)) return 'it must start with a letter or digit';
  return 'it contains a character outside [A-Za-z0-9._-]';
}

function show(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const json = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return json;
}

export function assertTraceId(value: unknown): asserts value is string {
  if (typeof value === 'string' && TRACE_ID_PATTERN.test(value)) return;
  throw new InvalidIdError(
    `Invalid trace id ${show(value)}: ${describeBadId(value, 128)}.`,
    'A trace id is 1–128 characters of letters, digits, ".", "_" and "-", starting with a letter or digit.',
    'traceId',
  );
}

export function assertTenantId(value: unknown): asserts value is string {
  if (typeof value === 'string' && TENANT_ID_PATTERN.test(value)) return;
  throw new InvalidIdError(
    `Invalid tenant id ${show(value)}: ${describeBadId(value, 64)}.`,
    'A tenant id is 1–64 characters of letters, digits, ".", "_" and "-", starting with a letter or digit (set it with --tenant or RETRACE_TENANT).',
    'tenantId',
  );
}

/** New trace ids sort by creation time (a millisecond timestamp prefix) and are unique (a random tail). */
export function newTraceId(now = Date.now()): string {
  return `tr_${now.toString(36).padStart(9, '0')}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export function newEventId(): string {
  return randomUUID();
}
