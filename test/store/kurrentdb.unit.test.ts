import {
  AccessDeniedError,
  MaxAppendSizeExceededError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  EventTooLargeError,
  InvalidIdError,
  StoreError,
  TraceNotFoundError,
  UnsupportedStoreUrlError,
} from '../../src/errors.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import {
  DEFAULT_MAX_APPEND_BYTES,
  PER_EVENT_OVERHEAD,
  STATE_META_ALLOWANCE,
  splitBySize,
} from '../../src/store/kurrentdb/batching.js';
import { translateKurrentError } from '../../src/store/kurrentdb/errors.js';
import { parseKurrentUrl } from '../../src/store/kurrentdb/index.js';
import { KurrentDbEventStore, type KurrentClientLike } from '../../src/store/kurrentdb/kurrentdb-store.js';
import {
  categoryEventsStream,
  decodeTenant,
  deterministicUuid,
  encodeTenant,
  indexStreamName,
  parseTraceStreamName,
  revisionOf,
  seqOf,
  streamStateFor,
  traceCategory,
  traceStreamName,
} from '../../src/store/kurrentdb/naming.js';
import { openStore } from '../../src/store/open-store.js';
import { verifyTrace } from '../../src/store/verify.js';
import { TraceBuilder } from '../helpers/trace-builder.js';

/** what KurrentDB's $by_category does with a stream name: everything before the first '-' */
const categoryOf = (stream: string) => stream.slice(0, stream.indexOf('-') < 0 ? stream.length : stream.indexOf('-'));

describe('KurrentDB stream naming', () => {
  it("puts all of a tenant's traces in one category, whatever '-' the ids contain", () => {
    const s1 = traceStreamName('acme-eu', 'tr-1-2');
    const s2 = traceStreamName('acme-eu', 'other');
    expect(s1).toBe('retrace_acme~eu-tr-1-2');
    expect(categoryOf(s1)).toBe(traceCategory('acme-eu'));
    expect(categoryOf(s2)).toBe(categoryOf(s1));
    expect(categoryEventsStream('acme-eu')).toBe('$ce-retrace_acme~eu');
    expect(parseTraceStreamName(s1)).toEqual({ tenantId: 'acme-eu', traceId: 'tr-1-2' });
    expect(parseTraceStreamName('orders-42')).toBeUndefined();
  });

  it('encodes tenants injectively: tenants that differ only in "-", "." or "_" never share a category', () => {
    const tenants = ['a-b', 'a.b', 'a_b', 'ab', 'a--b', 'a-b-c', 'a-bc', 'ab-c'];
    const cats = tenants.map(traceCategory);
    expect(new Set(cats).size).toBe(tenants.length);
    for (const t of tenants) expect(decodeTenant(encodeTenant(t))).toBe(t);
    // the index stream is not part of any trace category
    expect(categoryOf(indexStreamName('a-b'))).toBe(indexStreamName('a-b'));
  });

  it('refuses unsafe ids before they become stream names', () => {
    expect(() => traceStreamName('acme', '../x')).toThrow(InvalidIdError);
    expect(() => traceStreamName('a~b', 'x')).toThrow(InvalidIdError);
    expect(() => traceCategory('')).toThrow(InvalidIdError);
  });

  it('derives stable UUIDs for its own index entries', () => {
    const a = deterministicUuid('acme', 't1', 'registered', '0');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicUuid('acme', 't1', 'registered', '0')).toBe(a);
    expect(deterministicUuid('acme', 't1', 'registered', '5')).not.toBe(a);
  });
});

describe('KurrentDB revision mapping', () => {
  it('maps seq ↔ bigint revision through the trace base', () => {
    expect(revisionOf(0n, 0)).toBe(0n);
    expect(revisionOf(10n, 3)).toBe(13n);
    expect(seqOf(10n, 13n)).toBe(3);
    expect(typeof revisionOf(0n, 2 ** 40)).toBe('bigint');
  });

  it('turns our expected revision into the client streamState', () => {
    expect(streamStateFor(0n, -1, null)).toBe('no_stream');
    expect(streamStateFor(0n, 4, null)).toBe(4n);
    expect(streamStateFor(8n, 4, null)).toBe(12n);
    // a soft-deleted stream (last revision 7) is recreated by appending at revision 7
    expect(streamStateFor(8n, -1, 7n)).toBe(7n);
  });
});

describe('KurrentDB error translation', () => {
  const ctx = { location: 'kurrentdb://db:2113', tenantId: 'acme', traceId: 't1' };

  it('WrongExpectedVersionError → ConcurrencyError in seqs, with a retry hint', () => {
    const err = translateKurrentError(
      new WrongExpectedVersionError(undefined, { streamName: 's', expected: 12n, current: 15n }),
      { ...ctx, base: 10n },
    );
    expect(err).toBeInstanceOf(ConcurrencyError);
    expect(err).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', expected: '2', actual: '5', traceId: 't1' });
    expect((err as ConcurrencyError).hint).toMatch(/retry/i);
    const fresh = translateKurrentError(
      new WrongExpectedVersionError(undefined, { streamName: 's', expected: 'no_stream', current: 0n }),
      ctx,
    );
    expect(fresh).toMatchObject({ expected: 'no_stream', actual: '0' });
  });

  it('StreamNotFound → TraceNotFoundError; size → EventTooLargeError; access and connection → StoreError with a hint', () => {
    expect(translateKurrentError(new StreamNotFoundError(undefined, 's'), ctx)).toBeInstanceOf(TraceNotFoundError);
    const big = translateKurrentError(MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576), ctx);
    expect(big).toBeInstanceOf(EventTooLargeError);
    expect((big as EventTooLargeError).hint).toMatch(/MaxAppendSize/);
    const denied = translateKurrentError(new AccessDeniedError(undefined, 'denied'), ctx);
    expect(denied).toBeInstanceOf(StoreError);
    expect((denied as StoreError).hint).toMatch(/user/);
    const down = translateKurrentError(new UnavailableError(undefined, 'connect ECONNREFUSED'), ctx);
    expect(down).toBeInstanceOf(StoreError);
    expect((down as StoreError).message).toContain('kurrentdb://db:2113');
    expect((down as StoreError).hint).toMatch(/tls=false/);
    const refused = translateKurrentError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), ctx);
    expect(refused).toBeInstanceOf(StoreError);
  });

  it('leaves our own errors and foreign bugs alone', () => {
    const ours = new TraceNotFoundError('a', 'b');
    expect(translateKurrentError(ours, ctx)).toBe(ours);
    const bug = new TypeError('x is undefined');
    expect(translateKurrentError(bug, ctx)).toBe(bug);
  });
});

describe('KurrentDB append size split', () => {
  const sized = (bytes: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ bytes, eventId: `e${i}`, type: 'decision_made' }));

  it('keeps one small batch in one append', () => {
    expect(splitBySize(sized(1000, 100))).toEqual([100]);
  });

  it('splits a large batch into appends that each stay under MaxAppendSize, in order, losing nothing', () => {
    const events = sized(100_000, 35);
    const chunks = splitBySize(events);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(35);
    for (const n of chunks)
      expect(n * (100_000 + PER_EVENT_OVERHEAD) + STATE_META_ALLOWANCE).toBeLessThanOrEqual(DEFAULT_MAX_APPEND_BYTES);
    expect(splitBySize(events, 4 * 1024 * 1024).length).toBe(1);
  });

  it('refuses a single event larger than one append can hold', () => {
    expect(() => splitBySize([{ bytes: 1_100_000, eventId: 'big', type: 'tool_response' }])).toThrow(
      EventTooLargeError,
    );
    expect(splitBySize([{ bytes: 1_100_000, eventId: 'big', type: 'tool_response' }], 16 * 1024 * 1024)).toEqual([1]);
  });
});

describe('KurrentDB store URL', () => {
  it('passes the connection string through, minus our own parameters, and hides credentials', () => {
    const p = parseKurrentUrl(
      'kurrentdb://admin:changeit@a:2113,b:2113?tls=false&maxAppendSize=4194304&nodePreference=leader',
    );
    expect(p.connectionString).toBe('kurrentdb://admin:changeit@a:2113,b:2113?tls=false&nodePreference=leader');
    expect(p.location).toBe('kurrentdb://a:2113,b:2113');
    expect(p.maxAppendBytes).toBe(4_194_304);
    expect(parseKurrentUrl('kdb+discover://cluster.local:2113').maxAppendBytes).toBe(DEFAULT_MAX_APPEND_BYTES);
  });

  it('rejects other schemes and a bad maxAppendSize with a clear error', () => {
    expect(() => parseKurrentUrl('http://a:2113')).toThrow(UnsupportedStoreUrlError);
    expect(() => parseKurrentUrl('kurrentdb://a:2113?maxAppendSize=lots')).toThrow(UnsupportedStoreUrlError);
  });

  it('opens through openStore for every registered scheme without connecting (the client is lazy)', async () => {
    for (const scheme of ['kurrentdb', 'kurrent', 'kdb', 'kurrentdb+discover']) {
      const store = await openStore(`${scheme}://127.0.0.1:1?tls=false`);
      expect(store).toMatchObject({ kind: 'kurrentdb', readOnly: false, location: `${scheme}://127.0.0.1:1` });
      await store.close();
    }
  });
});

/**
 * A test double for the four client calls the store makes, with KurrentDB's documented semantics for them (expected
 * revision checks, soft delete continuing revisions, MaxAppendSize, StreamNotFound on iteration) and the client's
 * real error classes. It exercises the store's own logic — chunking, state in metadata, idempotency, conflicts —
 * and is NOT used for the contract suite, which needs a real server (KURRENTDB_URL).
 */
class ClientDouble {
  streams = new Map<
    string,
    { events: Array<{ id: string; type: string; data: unknown; metadata: unknown; revision: bigint }>; tb: bigint }
  >();
  appends: Array<{ stream: string; count: number; bytes: number }> = [];
  constructor(private readonly maxAppend = 1_048_576) {}

  private lastRevision(name: string): bigint | 'no_stream' {
    const s = this.streams.get(name);
    const last = s?.events[s.events.length - 1];
    return last ? last.revision : 'no_stream';
  }

  async appendToStream(stream: string, evs: unknown, options: { streamState?: unknown } = {}) {
    const list = (Array.isArray(evs) ? evs : [evs]) as Array<{
      id: string;
      type: string;
      data: unknown;
      metadata?: unknown;
    }>;
    const current = this.lastRevision(stream);
    const expected = options.streamState ?? 'any';
    if (expected !== 'any' && expected !== current) {
      throw new WrongExpectedVersionError(undefined, { streamName: stream, expected: expected as bigint, current });
    }
    const bytes = list.reduce(
      (a, e) => a + JSON.stringify(e.data).length + (e.metadata ? JSON.stringify(e.metadata).length : 0),
      0,
    );
    if (bytes > this.maxAppend) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppend);
    const s = this.streams.get(stream) ?? { events: [], tb: -1n };
    this.streams.set(stream, s);
    let rev = current === 'no_stream' ? -1n : current;
    for (const e of list) {
      rev += 1n;
      s.events.push({
        id: e.id,
        type: e.type,
        data: JSON.parse(JSON.stringify(e.data)),
        metadata: e.metadata ? JSON.parse(JSON.stringify(e.metadata)) : undefined,
        revision: rev,
      });
    }
    this.appends.push({ stream, count: list.length, bytes });
    return { success: true, nextExpectedRevision: rev };
  }

  readStream(stream: string, o: { direction?: string; fromRevision?: unknown; maxCount?: number | bigint } = {}) {
    const self = this;
    return (async function* () {
      const s = self.streams.get(stream);
      const visible = (s?.events ?? []).filter((e) => e.revision > (s?.tb ?? -1n));
      if (visible.length === 0) throw new StreamNotFoundError(undefined, stream);
      const back = o.direction === 'backwards';
      let list = back ? [...visible].reverse() : visible;
      if (typeof o.fromRevision === 'bigint') {
        const from = o.fromRevision;
        list = list.filter((e) => (back ? e.revision <= from : e.revision >= from));
      }
      list = list.slice(0, Number(o.maxCount ?? list.length));
      for (const e of list) yield { event: { ...e, streamId: stream, isJson: true, created: new Date() } };
    })();
  }

  async deleteStream(stream: string, o: { expectedRevision?: unknown } = {}) {
    const current = this.lastRevision(stream);
    if (o.expectedRevision !== undefined && o.expectedRevision !== 'any' && o.expectedRevision !== current) {
      throw new WrongExpectedVersionError(undefined, {
        streamName: stream,
        expected: o.expectedRevision as bigint,
        current,
      });
    }
    const s = this.streams.get(stream);
    if (s && current !== 'no_stream') s.tb = current;
    return {};
  }

  async dispose() {}
}

function storeWith(client: ClientDouble): KurrentDbEventStore {
  return new KurrentDbEventStore(client as unknown as KurrentClientLike, 'kurrentdb://double');
}

async function collect(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('KurrentDB store logic (client test double)', () => {
  it('splits a 3 MB batch into chained appends under 1 MiB, each ending with the trace state', async () => {
    const client = new ClientDouble();
    const store = storeWith(client);
    const b = new TraceBuilder('big');
    for (let i = 0; i < 30; i++) b.decision(`d${i}`);
    b.complete();
    for (const e of b.events)
      if (e.type === 'decision_made') (e.payload as { data?: unknown }).data = 'x'.repeat(100_000);
    const res = await store.append('acme-eu', 'big-1', b.events, { expectedRevision: 'no_stream' });
    expect(res.nextExpectedRevision).toBe(31);
    const writes = client.appends.filter((a) => a.stream === 'retrace_acme~eu-big-1');
    expect(writes.length).toBeGreaterThan(2);
    for (const w of writes) expect(w.bytes).toBeLessThanOrEqual(1_048_576);
    const stream = client.streams.get('retrace_acme~eu-big-1')!;
    let end = -1;
    for (const w of writes) {
      end += w.count;
      expect(stream.events[end]?.metadata).toMatchObject({ retrace: 1, state: { lastSeq: end } });
    }
    expect((await verifyTrace(store, 'acme-eu', 'big-1')).ok).toBe(true);
    expect(await store.summary('acme-eu', 'big-1')).toMatchObject({
      agent: 'big',
      status: 'completed',
      eventCount: 32,
    });
  });

  it('re-appending stored events is a no-op returning their positions; a stale revision is a ConcurrencyError', async () => {
    const client = new ClientDouble();
    const store = storeWith(client);
    const b = new TraceBuilder().llm().complete();
    const first = await store.append('acme', 'idem', b.events.slice(0, 3), { expectedRevision: 'no_stream' });
    const writes = client.appends.length;
    const again = await store.append('acme', 'idem', b.events.slice(0, 3), { expectedRevision: 'no_stream' });
    expect(again.positions).toEqual(first.positions.map((p) => ({ ...p, duplicate: true })));
    expect(client.appends.length).toBe(writes);
    // a fresh store instance (no cache) recognises them from the stream's tail
    const cold = storeWith(client);
    expect((await cold.append('acme', 'idem', b.events.slice(0, 3))).positions.every((p) => p.duplicate)).toBe(true);
    await expect(cold.append('acme', 'idem', b.events.slice(3), { expectedRevision: 1 })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    // another writer moved the trace behind this instance's cache: the server check catches it, then the reload
    await cold.append('acme', 'idem', b.events.slice(3), { expectedRevision: 2 });
    await expect(
      store.append('acme', 'idem', new TraceBuilder().decision().events.slice(1), { expectedRevision: 2 }),
    ).rejects.toMatchObject({
      code: 'WRONG_EXPECTED_REVISION',
      actual: '3',
    });
  });

  it('deletes a trace (soft delete) and lets the id be recorded again from seq 0', async () => {
    const client = new ClientDouble();
    const store = storeWith(client);
    await store.append('acme', 'again', new TraceBuilder('v1').decision().complete().events);
    expect(await store.deleteTrace('acme', 'again')).toBe(true);
    expect(await store.exists('acme', 'again')).toBe(false);
    expect(await store.deleteTrace('acme', 'again')).toBe(false);
    await expect(collect(store.read('acme', 'again'))).rejects.toBeInstanceOf(TraceNotFoundError);
    await store.append('acme', 'again', new TraceBuilder('v2').complete().events, { expectedRevision: 'no_stream' });
    const events = await collect(store.read('acme', 'again'));
    expect(events.map((e) => e.seq)).toEqual([0, 1]);
    expect((await verifyTrace(store, 'acme', 'again')).ok).toBe(true);
    expect((await store.list('acme')).traces.map((t) => [t.traceId, t.agent])).toEqual([['again', 'v2']]);
  });

  it('lists from the per-tenant index, newest first, with live status for unfinished traces', async () => {
    const client = new ClientDouble();
    const store = storeWith(client);
    const base = Date.UTC(2026, 1, 1);
    await store.append('acme', 'a', new TraceBuilder('x', { startMs: base }).complete().events);
    await store.append('acme', 'b', new TraceBuilder('y', { startMs: base + 1000 }).fail().events);
    const running = new TraceBuilder('z', { startMs: base + 2000 }).decision();
    await store.append('acme', 'c', running.events);
    await store.append('other', 'd', new TraceBuilder('x', { startMs: base }).complete().events);
    const page = await store.list('acme');
    expect(page.traces.map((t) => [t.traceId, t.status])).toEqual([
      ['c', 'running'],
      ['b', 'failed'],
      ['a', 'completed'],
    ]);
    expect(page.traces[0]?.eventCount).toBe(2);
    const p1 = await store.list('acme', { limit: 2 });
    const p2 = await store.list('acme', { limit: 2, cursor: p1.nextCursor! });
    expect([...p1.traces, ...p2.traces].map((t) => t.traceId)).toEqual(['c', 'b', 'a']);
    expect(p2.nextCursor).toBeUndefined();
    // reads of the index are O(traces): one registration per trace plus one end entry per finished trace
    expect(client.streams.get(indexStreamName('acme'))?.events.length).toBe(5);
  });

  it('refuses an event larger than one append before writing anything', async () => {
    const client = new ClientDouble();
    const store = storeWith(client);
    const b = new TraceBuilder().tool('bulk', {}, { blob: 'x'.repeat(1_200_000) });
    await expect(store.append('acme', 'huge', b.events)).rejects.toBeInstanceOf(EventTooLargeError);
    expect(client.appends).toEqual([]);
  });
});
