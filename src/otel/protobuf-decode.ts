import { ValidationError } from '../errors.js';

/**
 * Decodes an OTLP/protobuf `ExportTraceServiceRequest` (opentelemetry/proto/collector/trace/v1/trace_service.proto)
 * into the OTLP/JSON object shape, which ./spans.ts then validates like any JSON input. The official JS packages only
 * encode requests (and decode responses), so this reader covers just the trace request's fields; unknown fields are
 * skipped, as protobuf requires. Input is untrusted: every length is bounds-checked.
 */

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly end = buf.length,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new ValidationError(
      `OTLP protobuf body is malformed: ${what} at byte ${this.pos}.`,
      'Send an ExportTraceServiceRequest encoded by an OpenTelemetry OTLP/HTTP protobuf exporter (Content-Type: application/x-protobuf).',
      'body',
    );
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes');
  }

  uint32(): number {
    return Number(this.varint() & 0xffffffffn);
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated fixed64');
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.buf[this.pos + i]!);
    this.pos += 8;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (len < 0 || this.pos + len > this.end) this.fail('length beyond the end of the message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes());
  }

  sub(): Reader {
    const b = this.bytes();
    return new Reader(b);
  }

  tag(): { field: number; wire: number } {
    const t = this.uint32();
    return { field: t >>> 3, wire: t & 7 };
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else this.fail(`unsupported wire type ${wire}`);
    if (this.pos > this.end) this.fail('truncated field');
  }
}

const MAX_DEPTH = 64;

type Json = Record<string, unknown>;

function anyValue(r: Reader, depth: number): Json {
  if (depth > MAX_DEPTH)
    throw new ValidationError(
      'OTLP protobuf body nests attribute values too deeply.',
      'Flatten the attribute values.',
      'body',
    );
  let out: Json = {};
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out = { stringValue: r.string() };
    else if (field === 2 && wire === 0) out = { boolValue: r.varint() !== 0n };
    else if (field === 3 && wire === 0) out = { intValue: BigInt.asIntN(64, r.varint()).toString() };
    else if (field === 4 && wire === 1) out = { doubleValue: r.double() };
    else if (field === 5 && wire === 2) {
      const sub = r.sub();
      const values: Json[] = [];
      while (!sub.atEnd()) {
        const t = sub.tag();
        if (t.field === 1 && t.wire === 2) values.push(anyValue(sub.sub(), depth + 1));
        else sub.skip(t.wire);
      }
      out = { arrayValue: { values } };
    } else if (field === 6 && wire === 2) {
      const sub = r.sub();
      const values: Json[] = [];
      while (!sub.atEnd()) {
        const t = sub.tag();
        if (t.field === 1 && t.wire === 2) values.push(keyValue(sub.sub(), depth + 1));
        else sub.skip(t.wire);
      }
      out = { kvlistValue: { values } };
    } else if (field === 7 && wire === 2) out = { bytesValue: Buffer.from(r.bytes()).toString('base64') };
    else r.skip(wire);
  }
  return out;
}

function keyValue(r: Reader, depth = 0): Json {
  const out: Json = { key: '' };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.key = r.string();
    else if (field === 2 && wire === 2) out.value = anyValue(r.sub(), depth + 1);
    else r.skip(wire);
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function spanEvent(r: Reader): Json {
  const out: Json = { name: '', attributes: [] as Json[] };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 1) out.timeUnixNano = r.fixed64().toString();
    else if (field === 2 && wire === 2) out.name = r.string();
    else if (field === 3 && wire === 2) (out.attributes as Json[]).push(keyValue(r.sub()));
    else r.skip(wire);
  }
  return out;
}

function status(r: Reader): Json {
  const out: Json = {};
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === 2) out.message = r.string();
    else if (field === 3 && wire === 0) out.code = Number(r.varint());
    else r.skip(wire);
  }
  return out;
}

function span(r: Reader): Json {
  const out: Json = { traceId: '', spanId: '', name: '', startTimeUnixNano: '0', endTimeUnixNano: '0' };
  const attributes: Json[] = [];
  const events: Json[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.traceId = hex(r.bytes());
    else if (field === 2 && wire === 2) out.spanId = hex(r.bytes());
    else if (field === 4 && wire === 2) out.parentSpanId = hex(r.bytes());
    else if (field === 5 && wire === 2) out.name = r.string();
    else if (field === 6 && wire === 0) out.kind = Number(r.varint());
    else if (field === 7 && wire === 1) out.startTimeUnixNano = r.fixed64().toString();
    else if (field === 8 && wire === 1) out.endTimeUnixNano = r.fixed64().toString();
    else if (field === 9 && wire === 2) attributes.push(keyValue(r.sub()));
    else if (field === 11 && wire === 2) events.push(spanEvent(r.sub()));
    else if (field === 15 && wire === 2) out.status = status(r.sub());
    else r.skip(wire);
  }
  out.attributes = attributes;
  out.events = events;
  return out;
}

function scopeSpans(r: Reader): Json {
  const out: Json = { spans: [] as Json[] };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const scope: Json = {};
      const s = r.sub();
      while (!s.atEnd()) {
        const t = s.tag();
        if (t.field === 1 && t.wire === 2) scope.name = s.string();
        else if (t.field === 2 && t.wire === 2) scope.version = s.string();
        else s.skip(t.wire);
      }
      out.scope = scope;
    } else if (field === 2 && wire === 2) (out.spans as Json[]).push(span(r.sub()));
    else r.skip(wire);
  }
  return out;
}

function resourceSpans(r: Reader): Json {
  const out: Json = { scopeSpans: [] as Json[] };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const attributes: Json[] = [];
      const res = r.sub();
      while (!res.atEnd()) {
        const t = res.tag();
        if (t.field === 1 && t.wire === 2) attributes.push(keyValue(res.sub()));
        else res.skip(t.wire);
      }
      out.resource = { attributes };
    } else if (field === 2 && wire === 2) (out.scopeSpans as Json[]).push(scopeSpans(r.sub()));
    else r.skip(wire);
  }
  return out;
}

/** bytes of an ExportTraceServiceRequest → its OTLP/JSON object (not yet validated) */
export function decodeTraceRequest(bytes: Uint8Array): Json {
  const r = new Reader(bytes);
  const list: Json[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) list.push(resourceSpans(r.sub()));
    else r.skip(wire);
  }
  return { resourceSpans: list };
}
