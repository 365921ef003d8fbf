import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { isRetraceError, ValidationError } from '../errors.js';
import type { EventStore } from '../store/types.js';
import { importTraces, mapTraces, type OtlpImportOptions, type OtlpImportOutcome } from './import.js';
import { decodeTraceRequest } from './protobuf-decode.js';
import { spansFromOtlpJson, type SpanRecord } from './spans.js';

/**
 * An OTLP/HTTP traces receiver (POST /v1/traces, protobuf or JSON, optionally gzip) that imports what instrumented
 * agents send into a store. Exporters send spans as they end, so children arrive before their root: spans are held
 * per OTel trace until its root span arrives (or `settleMs` passes without one), then the trace is imported once.
 * Mounted by `retrace collect`, and meant to be mounted by any other server of retrace's (a route handler).
 */

export interface OtlpReceiverOptions extends OtlpImportOptions {
  store: EventStore;
  tenant: string;
  /** import a trace whose root never arrived after this long (default 10 s) */
  settleMs?: number;
  /** largest request body accepted (default 32 MiB) */
  maxBodyBytes?: number;
  onImported?(outcomes: OtlpImportOutcome[]): void;
  onError?(err: unknown): void;
}

export interface OtlpReceiver {
  /** handles the request when it is for /v1/traces; returns false (untouched) otherwise */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** imports every trace still waiting for its root */
  flush(): Promise<OtlpImportOutcome[]>;
  close(): Promise<void>;
}

class BodyTooLargeError extends ValidationError {
  override readonly code = 'OTLP_BODY_TOO_LARGE';
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max)
      throw new BodyTooLargeError(
        `OTLP request body is larger than ${max} bytes.`,
        'Send smaller batches (the BatchSpanProcessor maxExportBatchSize).',
        'body',
      );
    chunks.push(b);
  }
  const body = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  try {
    if (encoding === 'gzip') return gunzipSync(body, { maxOutputLength: max });
    if (encoding === 'deflate') return inflateSync(body, { maxOutputLength: max });
  } catch (err) {
    throw new ValidationError(
      `OTLP request body could not be decompressed (${encoding}).`,
      'Send a valid gzip body or no Content-Encoding.',
      'content-encoding',
      { cause: err },
    );
  }
  return body;
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createOtlpReceiver(options: OtlpReceiverOptions): OtlpReceiver {
  const pending = new Map<string, { spans: SpanRecord[]; timer: NodeJS.Timeout }>();
  const done = new Set<string>();
  const settleMs = options.settleMs ?? 10_000;
  const max = options.maxBodyBytes ?? 32 * 1024 * 1024;
  let queue: Promise<unknown> = Promise.resolve();

  const importNow = (traceIds: string[]): Promise<OtlpImportOutcome[]> => {
    const run = queue.then(async () => {
      const groups = new Map<string, SpanRecord[]>();
      for (const id of traceIds) {
        const entry = pending.get(id);
        if (!entry) continue;
        clearTimeout(entry.timer);
        pending.delete(id);
        done.add(id);
        groups.set(id, entry.spans);
      }
      if (groups.size === 0) return [];
      const outcomes = await importTraces(
        options.store,
        options.tenant,
        mapTraces(groups, { origin: 'otlp-http', ...options }),
      );
      options.onImported?.(outcomes);
      return outcomes;
    });
    queue = run.catch((err: unknown) => options.onError?.(err));
    return run;
  };

  const accept = (spans: SpanRecord[]): string[] => {
    const ready: string[] = [];
    for (const span of spans) {
      if (done.has(span.traceId)) continue; // a span after its trace was imported: late, dropped
      let entry = pending.get(span.traceId);
      if (!entry) {
        const timer = setTimeout(() => void importNow([span.traceId]).catch(() => undefined), settleMs);
        timer.unref();
        entry = { spans: [], timer };
        pending.set(span.traceId, entry);
      }
      entry.spans.push(span);
      if (span.parentSpanId === undefined && !ready.includes(span.traceId)) ready.push(span.traceId);
    }
    return ready;
  };

  return {
    async handle(req, res) {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/v1/traces') return false;
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      const json = type === 'application/json';
      if (req.method !== 'POST') {
        send(res, 405, 'application/json', JSON.stringify({ code: 12, message: 'POST OTLP spans to /v1/traces' }));
        return true;
      }
      if (!json && type !== 'application/x-protobuf' && type !== 'application/protobuf') {
        send(
          res,
          415,
          'application/json',
          JSON.stringify({
            code: 3,
            message: `unsupported content type "${type ?? ''}": use application/x-protobuf or application/json`,
          }),
        );
        return true;
      }
      try {
        const body = await readBody(req, max);
        let raw: unknown;
        if (json) {
          try {
            raw = JSON.parse(body.toString('utf8'));
          } catch (err) {
            throw new ValidationError(
              `OTLP/JSON body is not JSON: ${(err as Error).message}.`,
              'Send an ExportTraceServiceRequest as JSON.',
              'body',
            );
          }
        } else raw = decodeTraceRequest(body);
        const spans = spansFromOtlpJson(raw, 'request');
        const ready = accept(spans);
        if (ready.length > 0) await importNow(ready);
        // an empty ExportTraceServiceResponse means full success
        if (json) send(res, 200, 'application/json', '{}');
        else send(res, 200, 'application/x-protobuf', new Uint8Array());
      } catch (err) {
        const status = isRetraceError(err) && err.exitCategory === 'input' ? 400 : 500;
        if (status === 500) options.onError?.(err);
        const message = err instanceof Error ? err.message : String(err);
        // the OTLP spec answers errors with a google.rpc.Status; its JSON form is readable by people too
        send(res, status, 'application/json', JSON.stringify({ code: status === 400 ? 3 : 13, message }));
      }
      return true;
    },
    async flush() {
      return importNow([...pending.keys()]);
    },
    async close() {
      await this.flush().catch(() => undefined);
      for (const entry of pending.values()) clearTimeout(entry.timer);
      pending.clear();
    },
  };
}
