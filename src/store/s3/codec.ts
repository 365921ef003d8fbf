import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { CorruptEventError, StoreCorruptError } from '../../errors.js';
import { GENESIS_HASH, type StoredEvent } from '../../events/envelope.js';
import { safeParseStoredEvent } from '../../events/validate.js';
import { ChainVerifier } from '../../hashing/chain.js';
import { sha256Hex } from '../../hashing/canonical-json.js';
import type { ArchiveManifest } from './manifest.js';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** One trace as an archive object: NDJSON (one StoredEvent per line, hash chain included), gzip-compressed. */
export interface EncodedTrace {
  gz: Buffer;
  sha256: string;
  uncompressedBytes: number;
  eventCount: number;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
}

export async function encodeTrace(events: readonly StoredEvent[]): Promise<EncodedTrace> {
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last) throw new RangeError('encodeTrace needs at least one event');
  const ndjson = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
  return {
    gz: await gzip(ndjson),
    sha256: sha256Hex(ndjson),
    uncompressedBytes: ndjson.length,
    eventCount: events.length,
    firstSeq: first.seq,
    lastSeq: last.seq,
    lastHash: last.hash,
  };
}

export async function sha256OfGzip(gz: Buffer, where: string): Promise<{ sha256: string; bytes: number }> {
  const raw = await gunzipOrFail(gz, where);
  return { sha256: sha256Hex(raw), bytes: raw.length };
}

async function gunzipOrFail(gz: Buffer, where: string): Promise<Buffer> {
  try {
    return await gunzip(gz);
  } catch (err) {
    throw new StoreCorruptError(
      `The archived trace ${where} is not a complete gzip stream (${(err as Error).message}); it was truncated or damaged.`,
      'Nothing from it was returned. Re-archive the trace from a hot store if one still has it, or restore the object from a bucket version.',
      { cause: err },
    );
  }
}

/**
 * Decodes and fully verifies an archived trace before returning any of it: object size, gzip integrity, sha256 and
 * size against the manifest, every event's schema, seq continuity, identity and the hash chain, then the manifest's
 * counts and chain tip. All-or-nothing on purpose: replay must never run on a silently partial trace.
 */
export async function decodeTrace(gz: Buffer, m: ArchiveManifest, where: string): Promise<StoredEvent[]> {
  const hint =
    'Nothing from it was returned. Re-archive the trace from a hot store if one still has it, or restore the object from a bucket version.';
  if (gz.length !== m.compressedBytes) {
    throw new StoreCorruptError(
      `The archived trace ${where} is ${gz.length} bytes, but its manifest says ${m.compressedBytes}: object and manifest disagree.`,
      hint,
    );
  }
  const raw = await gunzipOrFail(gz, where);
  const sha = sha256Hex(raw);
  if (raw.length !== m.uncompressedBytes || sha !== m.sha256) {
    throw new StoreCorruptError(
      `The archived trace ${where} does not match its manifest (sha256 ${sha.slice(0, 12)}… vs ${m.sha256.slice(0, 12)}…, ${raw.length} vs ${m.uncompressedBytes} bytes).`,
      hint,
    );
  }
  const text = raw.toString('utf8');
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const events: StoredEvent[] = [];
  const chain = new ChainVerifier(m.firstSeq === 0 ? { seq: 0, prevHash: GENESIS_HASH } : { seq: m.firstSeq });
  for (const line of lines) {
    const seq = chain.expectedSeq;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new CorruptEventError(
        `Line for seq ${seq} of archived trace ${where} is not valid JSON.`,
        hint,
        m.traceId,
        seq,
      );
    }
    const parsed = safeParseStoredEvent(json);
    if (!parsed.ok) {
      throw new CorruptEventError(
        `Event ${seq} of archived trace ${where} fails its schema at ${parsed.field}: ${parsed.text}.`,
        hint,
        m.traceId,
        seq,
      );
    }
    const e = parsed.event;
    if (e.seq !== seq || e.traceId !== m.traceId || e.tenantId !== m.tenantId) {
      throw new CorruptEventError(
        `Event ${seq} of archived trace ${where} claims to be ${e.tenantId}/${e.traceId}#${e.seq}.`,
        hint,
        m.traceId,
        seq,
      );
    }
    // hash the JSON as stored (not the parsed form, which may have defaults filled in); seq was checked just above
    const { hash } = json as { hash: string };
    if (chain.check({ seq: e.seq, prevHash: e.prevHash, hash }, json as object).length > 0) {
      throw new CorruptEventError(
        `Event ${seq} of archived trace ${where} breaks the hash chain.`,
        hint,
        m.traceId,
        seq,
      );
    }
    events.push(e);
  }
  if (events.length !== m.eventCount || chain.expectedSeq - 1 !== m.lastSeq || chain.tip !== m.lastHash) {
    throw new StoreCorruptError(
      `The archived trace ${where} holds ${events.length} events ending at seq ${chain.expectedSeq - 1}, but its manifest says ${m.eventCount} ending at ${m.lastSeq}.`,
      hint,
    );
  }
  return events;
}
