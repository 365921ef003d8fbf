import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ReadOnlyStoreError,
  StoreCorruptError,
  StoreError,
  TraceNotFoundError,
  UnsupportedStoreUrlError,
} from '../../src/errors.js';
import { GENESIS_HASH, type StoredEvent } from '../../src/events/envelope.js';
import { eventHash } from '../../src/hashing/chain.js';
import { openStore } from '../../src/store/open-store.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  archiveTraces,
  restoreTraces,
  type S3Archive,
  S3EventStore,
  dataKey,
  manifestKey,
  parseS3Url,
} from '../../src/store/s3/index.js';
import type { EventStore } from '../../src/store/types.js';
import { makeTrace, startS3rver, type S3Fixture } from './archive-fixtures.js';

let s3: S3Fixture;
let dir: string;
let n = 0;

beforeAll(async () => {
  s3 = await startS3rver();
  dir = mkdtempSync(join(tmpdir(), 'retrace-s3-test-'));
});
afterAll(async () => {
  await s3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freshSqlite(): SqliteEventStore {
  n += 1;
  return new SqliteEventStore(join(dir, `hot-${n}.db`));
}

async function readAll(store: EventStore, tenant: string, trace: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read(tenant, trace)) out.push(e);
  return out;
}

function checkChain(events: readonly StoredEvent[]): void {
  let prev = GENESIS_HASH;
  for (const [i, e] of events.entries()) {
    expect(e.seq).toBe(i);
    expect(e.prevHash).toBe(prev);
    expect(eventHash(e as unknown as { prevHash: string } & Record<string, unknown>)).toBe(e.hash);
    prev = e.hash;
  }
}

async function seed(store: EventStore, tenant: string, trace: string, events = makeTrace(7)): Promise<StoredEvent[]> {
  await store.append(tenant, trace, events, { expectedRevision: 'no_stream' });
  return readAll(store, tenant, trace);
}

describe('S3 URL', () => {
  it('parses bucket, prefix and zod-checked parameters', () => {
    const loc = parseS3Url('s3://my-bucket/a/b/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1');
    expect(loc).toMatchObject({
      bucket: 'my-bucket',
      prefix: 'a/b',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      display: 's3://my-bucket/a/b',
    });
    expect(parseS3Url('s3://bkt').prefix).toBe('');
    expect(parseS3Url('s3://bkt/p?forcePathStyle=false&endpoint=https://minio.local').forcePathStyle).toBe(false);
  });
  it('rejects bad buckets, prefixes and parameters with a clear error', () => {
    expect(() => parseS3Url('s3://B/p')).toThrow(UnsupportedStoreUrlError);
    expect(() => parseS3Url('s3://bucket/../x')).toThrow(UnsupportedStoreUrlError);
    expect(() => parseS3Url('s3://bucket/p?endpoint=ftp://x')).toThrow(UnsupportedStoreUrlError);
    expect(() => parseS3Url('s3://bucket/p?secret=1')).toThrow(UnsupportedStoreUrlError);
  });
});

describe('S3 archive round trip', () => {
  it('archive (with prune) → read from the S3 store → restore into a fresh SQLite store: identical events, valid chain', async () => {
    const hot = freshSqlite();
    const a = await seed(
      hot,
      'acme',
      'tr-a',
      makeTrace(25, { agent: 'alpha', startedAt: new Date('2025-02-01T00:00:00Z') }),
    );
    const b = await seed(
      hot,
      'acme',
      'tr-b',
      makeTrace(8, { agent: 'beta', startedAt: new Date('2025-03-01T00:00:00Z') }),
    );
    const keep = await seed(hot, 'acme', 'tr-keep');
    const url = s3.url('rt');

    const report = await archiveTraces({
      from: hot,
      tenantId: 'acme',
      traceIds: ['tr-a', 'tr-b'],
      to: url,
      prune: true,
    });
    expect(report.results.map((r) => [r.traceId, r.outcome, r.pruned])).toEqual([
      ['tr-a', 'archived', true],
      ['tr-b', 'archived', true],
    ]);
    expect(report.events).toBe(33);
    expect(await hot.exists('acme', 'tr-a')).toBe(false);
    expect(await hot.exists('acme', 'tr-b')).toBe(false);
    expect(await hot.exists('acme', 'tr-keep')).toBe(true);

    const cold = await openStore(url);
    try {
      expect(cold.kind).toBe('s3');
      expect(cold.readOnly).toBe(true);
      expect(await readAll(cold, 'acme', 'tr-a')).toEqual(a);
      expect(await readAll(cold, 'acme', 'tr-b')).toEqual(b);
      const part: StoredEvent[] = [];
      for await (const e of cold.read('acme', 'tr-a', { fromSeq: 3, toSeq: 5 })) part.push(e);
      expect(part.map((e) => e.seq)).toEqual([3, 4, 5]);
      const page = await cold.list('acme');
      expect(page.traces.map((t) => t.traceId)).toEqual(['tr-b', 'tr-a']);
      expect(page.traces[1]).toMatchObject({
        agent: 'alpha',
        status: 'completed',
        eventCount: 25,
        lastSeq: 24,
        inputTokens: 110,
        outputTokens: 55,
      });
      expect(await cold.summary('acme', 'tr-a')).toEqual(page.traces[1]);
      expect(await cold.exists('acme', 'tr-keep')).toBe(false);
      await expect(cold.append('acme', 'tr-a', makeTrace(2))).rejects.toBeInstanceOf(ReadOnlyStoreError);
      await expect(cold.deleteTrace('acme', 'tr-a')).rejects.toBeInstanceOf(ReadOnlyStoreError);

      const target = freshSqlite();
      const restored = await restoreTraces({
        from: cold,
        to: target,
        tenantId: 'acme',
        traceIds: ['tr-a', 'tr-b'],
        batchSize: 10,
      });
      expect(restored.results.map((r) => r.outcome)).toEqual(['restored', 'restored']);
      const ra = await readAll(target, 'acme', 'tr-a');
      expect(ra).toEqual(a);
      expect(await readAll(target, 'acme', 'tr-b')).toEqual(b);
      checkChain(ra);
      // idempotent: a second restore appends nothing
      const again = await restoreTraces({ from: url, to: target, tenantId: 'acme', traceIds: ['tr-a'] });
      expect(again.results[0]).toMatchObject({ outcome: 'already-present', duplicates: 25 });
      expect((await target.summary('acme', 'tr-a'))?.eventCount).toBe(25);
      await target.close();
    } finally {
      await cold.close();
      await hot.close();
    }
    expect(keep.length).toBe(7);
  });

  it('selects by age, skips running traces and never archives into another tenant', async () => {
    const hot = freshSqlite();
    await seed(hot, 'acme', 'old-1', makeTrace(4, { startedAt: new Date('2024-01-01T00:00:00Z') }));
    await seed(hot, 'acme', 'new-1', makeTrace(4, { startedAt: new Date('2025-06-01T00:00:00Z') }));
    await hot.append('acme', 'old-running', makeTrace(4, { startedAt: new Date('2024-01-02T00:00:00Z') }).slice(0, 2));
    const report = await archiveTraces({
      from: hot,
      tenantId: 'acme',
      olderThanMs: 30 * 86_400_000,
      now: new Date('2024-06-01T00:00:00Z'),
      to: s3.url('age'),
    });
    expect(report.results.map((r) => [r.traceId, r.outcome])).toEqual([['old-1', 'archived']]);
    const report2 = await archiveTraces({
      from: hot,
      tenantId: 'acme',
      traceIds: ['old-running', 'nope'],
      to: s3.url('age'),
    });
    expect(report2.results.map((r) => r.outcome)).toEqual(['skipped', 'failed']);
    expect(report2.results[1]?.error).toBeInstanceOf(TraceNotFoundError);
    await hot.close();
  });
});

describe('S3 archive isolation and integrity', () => {
  it('keeps tenants apart: same trace id, prefix-similar tenant ids', async () => {
    const hot = freshSqlite();
    const x = await seed(hot, 'acme', 'shared-id', makeTrace(4, { agent: 'x' }));
    const y = await seed(hot, 'acme.eu', 'shared-id', makeTrace(6, { agent: 'y' }));
    await seed(hot, 'acme-eu', 'only-dash');
    const url = s3.url('iso');
    await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['shared-id'], to: url });
    await archiveTraces({ from: hot, tenantId: 'acme.eu', traceIds: ['shared-id'], to: url });
    await archiveTraces({ from: hot, tenantId: 'acme-eu', traceIds: ['only-dash'], to: url });
    const cold = S3EventStore.fromUrl(url);
    expect(await readAll(cold, 'acme', 'shared-id')).toEqual(x);
    expect(await readAll(cold, 'acme.eu', 'shared-id')).toEqual(y);
    expect((await cold.list('acme')).traces.map((t) => t.agent)).toEqual(['x']);
    expect((await cold.list('acme.eu')).traces.map((t) => t.agent)).toEqual(['y']);
    expect((await cold.list('acme-eu')).traces.map((t) => t.traceId)).toEqual(['only-dash']);
    expect((await cold.list('other')).traces).toEqual([]);
    await expect(readAll(cold, 'acme', 'only-dash')).rejects.toBeInstanceOf(TraceNotFoundError);
    // another prefix in the same bucket is another archive
    expect((await S3EventStore.fromUrl(s3.url('iso2')).list('acme')).traces).toEqual([]);
    await cold.close();
    await hot.close();
  });

  async function archivedOne(
    prefix: string,
  ): Promise<{ archive: S3Archive; cold: S3EventStore; events: StoredEvent[]; hot: SqliteEventStore }> {
    const hot = freshSqlite();
    const events = await seed(hot, 'acme', 't1', makeTrace(30));
    await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['t1'], to: s3.url(prefix) });
    const cold = S3EventStore.fromUrl(s3.url(prefix));
    return { archive: cold.archive, cold, events, hot };
  }

  async function put(archive: S3Archive, key: string, body: Buffer): Promise<void> {
    await archive.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  }

  async function get(archive: S3Archive, key: string): Promise<Buffer> {
    const res = await archive.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  async function expectNoEvents(cold: EventStore, err: new (...a: never[]) => Error, message: RegExp): Promise<void> {
    const got: StoredEvent[] = [];
    await expect(
      (async () => {
        for await (const e of cold.read('acme', 't1')) got.push(e);
      })(),
    ).rejects.toSatisfy((e: unknown) => e instanceof err && message.test((e as Error).message));
    expect(got).toEqual([]);
  }

  it('a truncated object is a clear error and yields nothing', async () => {
    const { archive, cold, hot } = await archivedOne('trunc');
    const key = dataKey('trunc', 'acme', 't1');
    const gz = await get(archive, key);
    await put(archive, key, gz.subarray(0, gz.length - 40));
    await expectNoEvents(cold, StoreCorruptError, /disagree|gzip/);
    await cold.close();
    await hot.close();
  });

  it('altered content (same size, valid gzip) fails the sha256 check; a manifest/object swap is detected', async () => {
    const { archive, cold, hot } = await archivedOne('corrupt');
    const key = dataKey('corrupt', 'acme', 't1');
    const text = gunzipSync(await get(archive, key)).toString('utf8');
    const tampered = gzipSync(
      Buffer.from(text.replace('"decision":"go"', '"decision":"no"').replace('gpt-4o-mini', 'gpt-4o-maxi')),
    );
    await put(archive, key, tampered);
    await expectNoEvents(cold, StoreCorruptError, /manifest/);
    // the manifest edited to match the tampered object: now the hash chain catches it
    const m = JSON.parse((await get(archive, manifestKey('corrupt', 'acme', 't1'))).toString('utf8')) as Record<
      string,
      unknown
    >;
    const { sha256Hex } = await import('../../src/hashing/canonical-json.js');
    const raw = gunzipSync(tampered);
    await put(
      archive,
      manifestKey('corrupt', 'acme', 't1'),
      Buffer.from(
        JSON.stringify({
          ...m,
          sha256: sha256Hex(raw),
          uncompressedBytes: raw.length,
          compressedBytes: tampered.length,
        }),
      ),
    );
    const { CorruptEventError } = await import('../../src/errors.js');
    await expectNoEvents(cold, CorruptEventError, /hash chain/);
    // a manifest that is not one retrace wrote
    await put(archive, manifestKey('corrupt', 'acme', 't1'), Buffer.from('{"format":"other"}'));
    await expect(cold.summary('acme', 't1')).rejects.toBeInstanceOf(StoreCorruptError);
    await cold.close();
    await hot.close();
  });

  it('a missing data object is a clear error; a missing trace is TraceNotFoundError', async () => {
    const { archive, cold, hot } = await archivedOne('missing');
    await archive.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: dataKey('missing', 'acme', 't1') }));
    await expectNoEvents(cold, StoreCorruptError, /missing/);
    await expect(readAll(cold, 'acme', 'never-archived')).rejects.toBeInstanceOf(TraceNotFoundError);
    expect(await cold.exists('acme', 'never-archived')).toBe(false);
    expect(await cold.summary('acme', 'never-archived')).toBeUndefined();
    await cold.close();
    await hot.close();
  });

  it('prune keeps the hot copy when the archived object does not verify', async () => {
    const { archive, cold, hot } = await archivedOne('prune-guard');
    const key = dataKey('prune-guard', 'acme', 't1');
    const gz = await get(archive, key);
    await put(archive, key, gz.subarray(0, gz.length - 1));
    const report = await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['t1'], to: cold, prune: true });
    expect(report.results[0]).toMatchObject({ outcome: 'failed', pruned: false });
    expect(report.results[0]?.error).toBeInstanceOf(StoreCorruptError);
    expect(await hot.exists('acme', 't1')).toBe(true);
    await cold.close();
    await hot.close();
  });
});

describe('S3 archive: no overwrite', () => {
  it('re-archiving the same trace is a no-op; a different trace under the same id is refused and the archive is unchanged', async () => {
    const hot = freshSqlite();
    const original = await seed(hot, 'acme', 'dup', makeTrace(5, { agent: 'first' }));
    const cold = S3EventStore.fromUrl(s3.url('noow'));
    // capture what goes over the wire: create-only writes must carry If-None-Match for real S3
    const puts: Array<{ Key?: string; IfNoneMatch?: string }> = [];
    cold.archive.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand') puts.push(args.input as { Key?: string; IfNoneMatch?: string });
        return next(args);
      },
      { step: 'initialize', name: 'capturePuts' },
    );

    expect(
      (await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['dup'], to: cold })).results[0]?.outcome,
    ).toBe('archived');
    expect(puts.length).toBe(3);
    expect(puts.every((p) => p.IfNoneMatch === '*')).toBe(true);
    expect(
      (await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['dup'], to: cold })).results[0]?.outcome,
    ).toBe('already-archived');

    await hot.deleteTrace('acme', 'dup');
    await seed(hot, 'acme', 'dup', makeTrace(9, { agent: 'second' }));
    const report = await archiveTraces({ from: hot, tenantId: 'acme', traceIds: ['dup'], to: cold, prune: true });
    expect(report.results[0]).toMatchObject({ outcome: 'failed', pruned: false });
    expect(report.results[0]?.error).toBeInstanceOf(StoreError);
    expect(report.results[0]?.reason).toMatch(/never overwritten/);
    expect(await readAll(cold, 'acme', 'dup')).toEqual(original);
    expect(await hot.exists('acme', 'dup')).toBe(true);
    await cold.close();
    await hot.close();
  });
});

describe('S3 archive of 1,000 traces', () => {
  it('lists them newest first across pages (limit + cursor), with filters', { timeout: 300_000 }, async () => {
    const hot = freshSqlite();
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    let mark = Date.now();
    const lap = (what: string) => {
      // progress on stderr, never asserted: s3rver speed varies a lot between machines
      process.stderr.write(`  1,000 traces: ${what} in ${Date.now() - mark} ms\n`);
      mark = Date.now();
    };
    for (let i = 0; i < 1000; i++) {
      const id = `bulk-${String(i).padStart(4, '0')}`;
      await hot.append(
        'bulk',
        id,
        makeTrace(2, { agent: i % 10 === 0 ? 'tenth' : 'other', startedAt: new Date(t0 + i * 60_000) }),
      );
    }
    lap('seeded');
    const url = s3.url('bulk');
    const report = await archiveTraces({ from: hot, tenantId: 'bulk', olderThanMs: 0, to: url, concurrency: 16 });
    expect(report.archived).toBe(1000);
    lap('archived');

    const cold = S3EventStore.fromUrl(url);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await cold.list('bulk', { limit: 150, ...(cursor !== undefined ? { cursor } : {}) });
      pages += 1;
      expect(page.traces.length).toBeLessThanOrEqual(150);
      seen.push(...page.traces.map((t) => t.traceId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    lap('listed');
    expect(pages).toBe(7);
    expect(seen.length).toBe(1000);
    expect(new Set(seen).size).toBe(1000);
    expect(seen[0]).toBe('bulk-0999');
    expect(seen[999]).toBe('bulk-0000');
    // same order as the hot store's own list
    const hotOrder: string[] = [];
    cursor = undefined;
    do {
      const page = await hot.list('bulk', { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
      hotOrder.push(...page.traces.map((t) => t.traceId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(hotOrder);

    const tenth = await cold.list('bulk', { agent: 'tenth', limit: 1000 });
    expect(tenth.traces.length).toBe(100);
    expect(tenth.nextCursor).toBeUndefined();
    const window = await cold.list('bulk', {
      startedAfter: new Date(t0 + 100 * 60_000).toISOString(),
      startedBefore: new Date(t0 + 109 * 60_000).toISOString(),
    });
    expect(window.traces.map((t) => t.traceId)).toEqual(
      Array.from({ length: 10 }, (_, k) => `bulk-${String(109 - k).padStart(4, '0')}`),
    );
    await cold.close();
    await hot.close();
  });
});
