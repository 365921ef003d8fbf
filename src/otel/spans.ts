import { ValidationError } from '../errors.js';
import {
  ExportTraceServiceRequestSchema,
  type ExportTraceServiceRequestJson,
  type KeyValueSchema,
} from './otlp-schema.js';
import type * as z from 'zod';

/**
 * OTLP requests (JSON or decoded protobuf) → flat span records with plain attribute values, the one shape the GenAI
 * mapping (./spans-to-events.ts) reads whatever the wire format was.
 */

export type AttrValue = string | number | boolean | AttrValue[] | { [key: string]: AttrValue } | null;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttrValue>;
  events: { name: string; timeNs: bigint; attributes: Record<string, AttrValue> }[];
  /** 0 unset, 1 ok, 2 error */
  statusCode: number;
  statusMessage?: string;
  resource: Record<string, AttrValue>;
  scopeName?: string;
}

type KeyValue = z.infer<typeof KeyValueSchema>;

function anyValue(v: unknown): AttrValue {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if ('stringValue' in o) return String(o.stringValue);
  if ('boolValue' in o) return Boolean(o.boolValue);
  if ('intValue' in o) return Number(o.intValue);
  if ('doubleValue' in o) return Number(o.doubleValue);
  if ('bytesValue' in o) return String(o.bytesValue);
  if ('arrayValue' in o) {
    const values = (o.arrayValue as { values?: unknown[] } | undefined)?.values ?? [];
    return values.map(anyValue);
  }
  if ('kvlistValue' in o) {
    const values = (o.kvlistValue as { values?: KeyValue[] } | undefined)?.values ?? [];
    return attributesOf(values);
  }
  return null;
}

export function attributesOf(list: readonly KeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

const HEX = /^[0-9a-fA-F]+$/;

/** ids are hex in OTLP/JSON; a base64 id (16 or 8 bytes) from an older writer is converted */
function hexId(text: string, bytes: number, where: string): string {
  if (text.length === bytes * 2 && HEX.test(text)) return text.toLowerCase();
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(text)) return decoded.toString('hex');
  throw new ValidationError(
    `${where}: "${text.slice(0, 40)}" is not a ${bytes}-byte id (expected ${bytes * 2} hex characters).`,
    'OTLP/JSON ids are lower-case hex strings; re-export the spans with an OpenTelemetry SDK or `retrace export --format otlp-json`.',
    where,
  );
}

const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function zodPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Validates an OTLP/JSON request (already JSON-parsed) and flattens its spans. `where` names the input in errors. */
export function spansFromOtlpJson(raw: unknown, where: string): SpanRecord[] {
  const parsed = ExportTraceServiceRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? zodPath(issue.path) : '';
    throw new ValidationError(
      `${where}: not an OTLP trace export request: ${field || 'the document'}: ${issue?.message ?? 'invalid'}.`,
      'Give an OTLP/JSON ExportTraceServiceRequest ({"resourceSpans":[…]}), one per line or one document, as an OpenTelemetry SDK file exporter or `retrace export --format otlp-json` writes it.',
      field || undefined,
    );
  }
  return flatten(parsed.data, where);
}

export function flatten(request: ExportTraceServiceRequestJson, where: string): SpanRecord[] {
  const out: SpanRecord[] = [];
  request.resourceSpans.forEach((rs, r) => {
    const resource = attributesOf(rs.resource?.attributes);
    (rs.scopeSpans ?? []).forEach((ss, s) => {
      (ss.spans ?? []).forEach((span, i) => {
        const at = `${where}: resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`;
        const kind = typeof span.kind === 'string' ? (KIND_NAMES[span.kind] ?? 0) : (span.kind ?? 0);
        const code = span.status?.code;
        const startNs = BigInt(span.startTimeUnixNano);
        const endNs = BigInt(span.endTimeUnixNano);
        out.push({
          traceId: hexId(span.traceId, 16, `${at}.traceId`),
          spanId: hexId(span.spanId, 8, `${at}.spanId`),
          ...(span.parentSpanId !== undefined && span.parentSpanId !== ''
            ? { parentSpanId: hexId(span.parentSpanId, 8, `${at}.parentSpanId`) }
            : {}),
          name: span.name,
          kind,
          startNs,
          endNs: endNs < startNs ? startNs : endNs,
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((e) => ({
            name: e.name,
            timeNs: e.timeUnixNano !== undefined ? BigInt(e.timeUnixNano) : startNs,
            attributes: attributesOf(e.attributes),
          })),
          statusCode: typeof code === 'string' ? (STATUS_NAMES[code] ?? 0) : (code ?? 0),
          ...(span.status?.message ? { statusMessage: span.status.message } : {}),
          resource,
          ...(ss.scope?.name !== undefined ? { scopeName: ss.scope.name } : {}),
        });
      });
    });
  });
  return out;
}
