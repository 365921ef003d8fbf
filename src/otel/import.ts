import { open, readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ValidationError } from '../errors.js';
import type { NewEvent } from '../events/envelope.js';
import { retraceVersion } from '../recorder/environment.js';
import { loadPricing, type PricingTable } from '../recorder/pricing.js';
import type { EventStore } from '../store/types.js';
import { decodeTraceRequest } from './protobuf-decode.js';
import { spansFromOtlpJson, type SpanRecord } from './spans.js';
import { spansToTrace, type ImportedTrace, type SpanSource } from './spans-to-events.js';

/**
 * Importing OTLP traces into a store: from a file (OTLP/JSON, one request per line or one document, or OTLP/protobuf)
 * or from request bodies the receiver got. Spans are grouped per OTel trace, mapped (./spans-to-events.ts), checked
 * against the store (importing the same spans twice changes nothing) and appended one trace per atomic write.
 */

export interface OtlpImportOptions {
  keepGenericSpans?: boolean;
  entry?: string;
  origin?: string;
  pricing?: PricingTable;
}

export interface OtlpImportOutcome {
  traceId: string;
  otelTraceId: string;
  agent: string;
  events: number;
  sources: SpanSource[];
  result: 'imported' | 'unchanged';
}

export type TraceFileFormat = 'ndjson' | 'otlp-json' | 'otlp-protobuf';

/** Looks at the first bytes/line of a file: retrace NDJSON, OTLP/JSON, or binary OTLP/protobuf. */
export async function detectTraceFileFormat(path: string): Promise<TraceFileFormat> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const head = buffer.subarray(0, bytesRead);
    const text = head.toString('utf8').trimStart();
    if (text.startsWith('{') || text.startsWith('[')) {
      // NDJSON events carry schemaVersion/type/payload; OTLP documents start with resourceSpans
      const firstLine = text.split('\n', 1)[0] ?? '';
      if (/"resourceSpans"\s*:/.test(text.slice(0, 4096))) return 'otlp-json';
      if (/"schemaVersion"\s*:/.test(firstLine) || /"payload"\s*:/.test(firstLine)) return 'ndjson';
      return 'ndjson';
    }
    // an empty or whitespace-only file is a (bad) NDJSON file, not protobuf (whose first byte is also "\n")
    if (text === '') return 'ndjson';
    if (bytesRead > 0 && head[0] === 0x0a) return 'otlp-protobuf';
    return 'ndjson';
  } finally {
    await handle.close();
  }
}

function groupByTrace(spans: Iterable<SpanRecord>, into: Map<string, SpanRecord[]>): void {
  for (const span of spans) {
    const list = into.get(span.traceId);
    if (list) list.push(span);
    else into.set(span.traceId, [span]);
  }
}

/** Reads every span of an OTLP file, grouped by OTel trace id. JSON lines are parsed one at a time. */
export async function readOtlpFile(
  path: string,
  format: 'otlp-json' | 'otlp-protobuf',
): Promise<Map<string, SpanRecord[]>> {
  const byTrace = new Map<string, SpanRecord[]>();
  if (format === 'otlp-protobuf') {
    const bytes = await readFile(path);
    groupByTrace(spansFromOtlpJson(decodeTraceRequest(bytes), path), byTrace);
    return byTrace;
  }
  // JSON lines (one ExportTraceServiceRequest per line, as file exporters write) unless the first line is not whole JSON
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  let whole = false;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      if (byTrace.size === 0 && lineNo <= 2) {
        whole = true;
        break;
      }
      throw new ValidationError(
        `${path} line ${lineNo}: not JSON (${(err as Error).message}). Nothing was imported.`,
        'An OTLP/JSON file holds one ExportTraceServiceRequest per line, or one JSON document.',
        `line ${lineNo}`,
      );
    }
    groupByTrace(spansFromOtlpJson(raw, `${path} line ${lineNo}`), byTrace);
  }
  lines.close();
  if (whole) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new ValidationError(
        `${path}: not JSON (${(err as Error).message}). Nothing was imported.`,
        'Give an OTLP/JSON file as written by an OpenTelemetry file exporter or `retrace export --format otlp-json`.',
        'file',
      );
    }
    const docs = Array.isArray(raw) ? raw : [raw];
    for (const [i, doc] of docs.entries())
      groupByTrace(spansFromOtlpJson(doc, docs.length > 1 ? `${path} [${i}]` : path), byTrace);
  }
  return byTrace;
}

/** Maps grouped spans to retrace traces (no store involved). */
export function mapTraces(byTrace: Map<string, SpanRecord[]>, options: OtlpImportOptions = {}): ImportedTrace[] {
  const pricing = options.pricing ?? loadPricing();
  const version = retraceVersion();
  return [...byTrace.values()].map((spans) =>
    spansToTrace(spans, {
      ...(options.keepGenericSpans !== undefined ? { keepGenericSpans: options.keepGenericSpans } : {}),
      ...(options.entry !== undefined ? { entry: options.entry } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      pricing,
      retraceVersion: version,
    }),
  );
}

async function sameEvents(
  store: EventStore,
  tenant: string,
  traceId: string,
  events: readonly NewEvent[],
): Promise<boolean> {
  let i = 0;
  for await (const stored of store.read(tenant, traceId)) {
    if (stored.eventId.toLowerCase() !== events[i]?.eventId.toLowerCase()) return false;
    i += 1;
  }
  return i === events.length;
}

/**
 * Appends imported traces. Every trace is checked before the first write, so a conflict (the trace id exists with
 * other events) imports nothing.
 */
export async function importTraces(
  store: EventStore,
  tenant: string,
  traces: readonly ImportedTrace[],
): Promise<OtlpImportOutcome[]> {
  const decisions = new Map<string, 'new' | 'unchanged'>();
  for (const t of traces) {
    if (!(await store.summary(tenant, t.traceId))) decisions.set(t.traceId, 'new');
    else if (await sameEvents(store, tenant, t.traceId, t.events)) decisions.set(t.traceId, 'unchanged');
    else
      throw new ValidationError(
        `Trace "${t.traceId}" (OTel trace ${t.otelTraceId}) already exists in tenant "${tenant}" with other events. Nothing was imported.`,
        'The spans of that OTel trace changed since it was imported; import into another tenant (--tenant) or store (--store), or delete the earlier import.',
        'traceId',
      );
  }
  const out: OtlpImportOutcome[] = [];
  for (const t of traces) {
    const decision = decisions.get(t.traceId);
    if (decision === 'new') await store.append(tenant, t.traceId, t.events, { expectedRevision: 'no_stream' });
    out.push({
      traceId: t.traceId,
      otelTraceId: t.otelTraceId,
      agent: t.agent,
      events: t.events.length,
      sources: t.sources,
      result: decision === 'new' ? 'imported' : 'unchanged',
    });
  }
  return out;
}

/** `retrace import FILE` for OTLP files. */
export async function importOtlpFile(
  store: EventStore,
  tenant: string,
  path: string,
  format: 'otlp-json' | 'otlp-protobuf',
  options: OtlpImportOptions = {},
): Promise<OtlpImportOutcome[]> {
  const byTrace = await readOtlpFile(path, format);
  return importTraces(store, tenant, mapTraces(byTrace, { origin: path, ...options }));
}
