/**
 * AWS event-stream framing (application/vnd.amazon.eventstream), used by Bedrock's ConverseStream and
 * InvokeModelWithResponseStream. Each message: total length (uint32 BE), headers length (uint32 BE), CRC32 of those 8
 * bytes, headers, payload, CRC32 of everything before it. A header: name length (uint8), name, type (uint8), value.
 * The recorder splits a response into messages and stores each one decoded (headers + payload text), so a trace is
 * readable JSON; a replay frames them again, byte for byte the same for the header types AWS sends.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A header value: strings as they are; the other wire types tagged, so they frame back to the same bytes. */
export type EventHeaderValue =
  | string
  | { type: 'boolean'; value: boolean }
  | { type: 'byte' | 'short' | 'integer'; value: number }
  | { type: 'long' | 'timestamp'; value: string }
  | { type: 'binary' | 'uuid'; value: string };

export interface EventMessage {
  headers: Record<string, EventHeaderValue>;
  /** the payload as UTF-8 text (JSON for Bedrock), or base64 when `payloadEncoding` says so */
  payload: string;
  payloadEncoding?: 'base64';
}

export class EventStreamFramingError extends Error {
  readonly code = 'EVENT_STREAM_FRAMING';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readHeaders(buf: Buffer, start: number, end: number): Record<string, EventHeaderValue> {
  const out: Record<string, EventHeaderValue> = {};
  let i = start;
  while (i < end) {
    const nameLen = buf.readUInt8(i);
    const name = buf.toString('utf8', i + 1, i + 1 + nameLen);
    i += 1 + nameLen;
    const type = buf.readUInt8(i++);
    switch (type) {
      case 0:
      case 1:
        out[name] = { type: 'boolean', value: type === 0 };
        break;
      case 2:
        out[name] = { type: 'byte', value: buf.readInt8(i) };
        i += 1;
        break;
      case 3:
        out[name] = { type: 'short', value: buf.readInt16BE(i) };
        i += 2;
        break;
      case 4:
        out[name] = { type: 'integer', value: buf.readInt32BE(i) };
        i += 4;
        break;
      case 5:
      case 8:
        out[name] = { type: type === 5 ? 'long' : 'timestamp', value: buf.readBigInt64BE(i).toString() };
        i += 8;
        break;
      case 6:
      case 7: {
        const len = buf.readUInt16BE(i);
        i += 2;
        out[name] =
          type === 7
            ? buf.toString('utf8', i, i + len)
            : { type: 'binary', value: buf.subarray(i, i + len).toString('base64') };
        i += len;
        break;
      }
      case 9:
        out[name] = { type: 'uuid', value: buf.subarray(i, i + 16).toString('base64') };
        i += 16;
        break;
      default:
        throw new EventStreamFramingError(`unknown event-stream header type ${type}`);
    }
  }
  return out;
}

/** Splits a byte stream into messages as bytes arrive (reads cut it anywhere). */
export class EventStreamSplitter {
  private buffer: Buffer = Buffer.alloc(0);

  push(bytes: Uint8Array): EventMessage[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buffer, bytes]);
    const out: EventMessage[] = [];
    while (this.buffer.length >= 12) {
      const total = this.buffer.readUInt32BE(0);
      const headersLen = this.buffer.readUInt32BE(4);
      if (total < 16 || headersLen > total - 16) throw new EventStreamFramingError('event-stream message too short');
      if (crc32(this.buffer, 0, 8) !== this.buffer.readUInt32BE(8))
        throw new EventStreamFramingError('event-stream prelude CRC mismatch');
      if (this.buffer.length < total) break;
      if (crc32(this.buffer, 0, total - 4) !== this.buffer.readUInt32BE(total - 4))
        throw new EventStreamFramingError('event-stream message CRC mismatch');
      const headers = readHeaders(this.buffer, 12, 12 + headersLen);
      const payload = this.buffer.subarray(12 + headersLen, total - 4);
      let text: string | undefined;
      try {
        text = utf8.decode(payload);
      } catch {
        text = undefined;
      }
      out.push(
        text !== undefined
          ? { headers, payload: text }
          : { headers, payload: Buffer.from(payload).toString('base64'), payloadEncoding: 'base64' },
      );
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }

  /** bytes of an incomplete last message */
  get pending(): number {
    return this.buffer.length;
  }
}

function headerBytes(name: string, value: EventHeaderValue): Buffer {
  const n = Buffer.from(name, 'utf8');
  const head = Buffer.concat([Buffer.from([n.length]), n]);
  if (typeof value === 'string') {
    const v = Buffer.from(value, 'utf8');
    const len = Buffer.alloc(3);
    len.writeUInt8(7, 0);
    len.writeUInt16BE(v.length, 1);
    return Buffer.concat([head, len, v]);
  }
  switch (value.type) {
    case 'boolean':
      return Buffer.concat([head, Buffer.from([value.value ? 0 : 1])]);
    case 'byte': {
      const b = Buffer.alloc(2);
      b.writeUInt8(2, 0);
      b.writeInt8(value.value, 1);
      return Buffer.concat([head, b]);
    }
    case 'short': {
      const b = Buffer.alloc(3);
      b.writeUInt8(3, 0);
      b.writeInt16BE(value.value, 1);
      return Buffer.concat([head, b]);
    }
    case 'integer': {
      const b = Buffer.alloc(5);
      b.writeUInt8(4, 0);
      b.writeInt32BE(value.value, 1);
      return Buffer.concat([head, b]);
    }
    case 'long':
    case 'timestamp': {
      const b = Buffer.alloc(9);
      b.writeUInt8(value.type === 'long' ? 5 : 8, 0);
      b.writeBigInt64BE(BigInt(value.value), 1);
      return Buffer.concat([head, b]);
    }
    case 'binary': {
      const v = Buffer.from(value.value, 'base64');
      const len = Buffer.alloc(3);
      len.writeUInt8(6, 0);
      len.writeUInt16BE(v.length, 1);
      return Buffer.concat([head, len, v]);
    }
    case 'uuid':
      return Buffer.concat([head, Buffer.from([9]), Buffer.from(value.value, 'base64')]);
  }
}

/** One message as wire bytes. */
export function frameEventMessage(message: EventMessage): Uint8Array {
  const headers = Buffer.concat(Object.entries(message.headers).map(([k, v]) => headerBytes(k, v)));
  const payload =
    message.payloadEncoding === 'base64'
      ? Buffer.from(message.payload, 'base64')
      : Buffer.from(message.payload, 'utf8');
  const total = 12 + headers.length + payload.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out, 0, 8), 8);
  headers.copy(out, 12);
  payload.copy(out, 12 + headers.length);
  out.writeUInt32BE(crc32(out, 0, total - 4), total - 4);
  return out;
}

export const EVENT_STREAM_CONTENT_TYPE = /application\/vnd\.amazon\.eventstream/i;
