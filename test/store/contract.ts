import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/envelope.js';
import type { EventStore } from '../../src/store/types.js';
import { verifyTrace } from '../../src/store/verify.js';
import { TraceBuilder } from '../helpers/trace-builder.js';

/**
 * The store contract (src/store/types.ts): every backend runs this suite through its own factory, so the embedded store,
 * KurrentDB and the S3 archive behave the same. Written against the EventStore interface only.
 * Read-only backends (the S3 archive) get their traces through `seed` and must refuse appends.
 */
export interface StoreFixture {
  store: EventStore;
  /** for read-only stores: how the suite puts a trace in place */
  seed?: (tenantId: string, traceId: string, events: NewEvent[]) => Promise<void>;
  /**
   * false when the backend cannot refuse an eventId already used in *another* trace of the tenant (KurrentDB has no
   * lookup by event id; retries into the same trace are still idempotent there). Documented in docs/scale-out.md.
   */
  uniqueEventIdsAcrossTraces?: boolean;
  cleanup(): Promise<void>;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function uniq(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface ContractOptions {
  /** the backend refuses writes: the write cases are reported as skipped, and the refusal is tested instead */
  readOnly?: boolean;
  /** why the whole contract cannot run here (e.g. no server): every case is reported as skipped, with this reason */
  skip?: string;
}

export function describeStoreContract(
  name: string,
  factory: () => Promise<StoreFixture>,
  options: ContractOptions = {},
): void {
  const readOnly = options.readOnly === true;
  const suite = options.skip !== undefined ? describe.skip : describe;
  suite(`store contract: ${name}${options.skip !== undefined ? ` (skipped: ${options.skip})` : ''}`, () => {
    let fx: StoreFixture;
    let store: EventStore;
    const put = async (tenant: string, traceId: string, events: NewEvent[]) => {
      if (fx.seed) await fx.seed(tenant, traceId, events);
      else await store.append(tenant, traceId, events, { expectedRevision: 'no_stream' });
    };

    beforeAll(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    it('reads back a stored trace in order, with a gapless seq and a checking hash chain', async () => {
      const tenant = uniq('t');
      const b = new TraceBuilder('reader').llm().tool('search').decision().complete({ answer: 42 });
      await put(tenant, 'trace-1', b.events);
      const events = await collect(store.read(tenant, 'trace-1'));
      expect(events.map((e) => e.seq)).toEqual(b.events.map((_, i) => i));
      expect(events.map((e) => e.eventId)).toEqual(b.events.map((e) => e.eventId));
      expect(events.every((e) => e.tenantId === tenant && e.traceId === 'trace-1')).toBe(true);
      for (let i = 1; i < events.length; i++) expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
      const verdict = await verifyTrace(store, tenant, 'trace-1');
      expect(verdict.problems).toEqual([]);
      expect(verdict.ok).toBe(true);
    });

    it('gives payloads back with the key order they were written in (replay re-serializes them)', async () => {
      const tenant = uniq('t');
      await put(
        tenant,
        'order',
        new TraceBuilder().tool('t', { z: 1, a: 2 }, { zeta: { y: 1, b: 2 }, alpha: [{ d: 1, c: 2 }] }).complete()
          .events,
      );
      const response = (await collect(store.read(tenant, 'order'))).find((e) => e.type === 'tool_response');
      expect(JSON.stringify(response?.payload)).toContain('{"zeta":{"y":1,"b":2},"alpha":[{"d":1,"c":2}]}');
      expect((await verifyTrace(store, tenant, 'order')).ok).toBe(true);
    });

    it('summarises a trace: agent, status, counts, tokens', async () => {
      const tenant = uniq('t');
      await put(
        tenant,
        'done',
        new TraceBuilder('summ').llm('gpt-4o', 'a', { inputTokens: 100, outputTokens: 20 }).complete().events,
      );
      await put(tenant, 'broken', new TraceBuilder('summ').fail('nope').events);
      const done = await store.summary(tenant, 'done');
      expect(done).toMatchObject({
        agent: 'summ',
        status: 'completed',
        eventCount: 4,
        lastSeq: 3,
        inputTokens: 100,
        outputTokens: 20,
      });
      expect(done?.durationMs).toBeGreaterThanOrEqual(0);
      expect((await store.summary(tenant, 'broken'))?.status).toBe('failed');
      expect(await store.exists(tenant, 'done')).toBe(true);
      expect(await store.exists(tenant, 'missing')).toBe(false);
      expect(await store.summary(tenant, 'missing')).toBeUndefined();
    });

    it('reads a range of seqs', async () => {
      const tenant = uniq('t');
      const b = new TraceBuilder();
      for (let i = 0; i < 20; i++) b.decision(`d${i}`);
      b.complete();
      await put(tenant, 'ranged', b.events);
      const mid = await collect(store.read(tenant, 'ranged', { fromSeq: 5, toSeq: 9 }));
      expect(mid.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9]);
      const tail = await collect(store.read(tenant, 'ranged', { fromSeq: 20 }));
      expect(tail.map((e) => e.seq)).toEqual([20, 21]);
    });

    it('streams a long trace in order', async () => {
      const tenant = uniq('t');
      const b = new TraceBuilder();
      for (let i = 0; i < 3000; i++) b.decision(`step ${i}`);
      b.complete();
      await put(tenant, 'long', b.events);
      let expected = 0;
      for await (const e of store.read(tenant, 'long')) {
        expect(e.seq).toBe(expected);
        expected += 1;
      }
      expect(expected).toBe(3002);
    });

    it('throws TraceNotFoundError for an unknown trace, and keeps tenants apart', async () => {
      const tenantA = uniq('a');
      const tenantB = uniq('b');
      await put(tenantA, 'secret', new TraceBuilder('private').complete().events);
      await expect(collect(store.read(tenantA, 'nope'))).rejects.toMatchObject({ code: 'TRACE_NOT_FOUND' });
      await expect(collect(store.read(tenantB, 'secret'))).rejects.toMatchObject({ code: 'TRACE_NOT_FOUND' });
      expect(await store.exists(tenantB, 'secret')).toBe(false);
      expect((await store.list(tenantB)).traces).toEqual([]);
      expect((await store.list(tenantA)).traces.map((t) => t.traceId)).toEqual(['secret']);
    });

    it('lists by agent, status and time range, newest first, with cursor pagination', async () => {
      const tenant = uniq('t');
      const base = Date.UTC(2026, 5, 1);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const b = new TraceBuilder(i % 2 === 0 ? 'even' : 'odd', { startMs: base + i * 60_000 });
        if (i === 3) b.fail();
        else b.complete();
        const id = `list-${i}`;
        ids.push(id);
        await put(tenant, id, b.events);
      }
      const all = await store.list(tenant);
      expect(all.traces.map((t) => t.traceId)).toEqual([...ids].reverse());
      expect(all.nextCursor).toBeUndefined();
      expect((await store.list(tenant, { agent: 'odd' })).traces.map((t) => t.traceId)).toEqual([
        'list-5',
        'list-3',
        'list-1',
      ]);
      expect((await store.list(tenant, { status: 'failed' })).traces.map((t) => t.traceId)).toEqual(['list-3']);
      expect((await store.list(tenant, { status: 'running' })).traces).toEqual([]);
      const window = await store.list(tenant, {
        startedAfter: new Date(base + 2 * 60_000).toISOString(),
        startedBefore: new Date(base + 4 * 60_000 + 1).toISOString(),
      });
      expect(window.traces.map((t) => t.traceId)).toEqual(['list-4', 'list-3', 'list-2']);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(tenant, { limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.traces.length).toBeLessThanOrEqual(3);
        seen.push(...page.traces.map((t) => t.traceId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('rejects unsafe trace and tenant ids with a clear error', async () => {
      const tenant = uniq('t');
      const bad = [
        '',
        'x'.repeat(10 * 1024),
        '../../etc/passwd',
        'a/b',
        'a\\b',
        'bad\u0000id',
        'tab\tid',
        '\uD800lone',
        'ünïcode',
        '.hidden',
      ];
      for (const id of bad) {
        await expect(collect(store.read(tenant, id))).rejects.toMatchObject({ code: 'INVALID_ID' });
        await expect(store.exists(id, 'x')).rejects.toMatchObject({ code: 'INVALID_ID' });
        await expect(store.list(id)).rejects.toMatchObject({ code: 'INVALID_ID' });
        if (!store.readOnly) {
          await expect(store.append(tenant, id, new TraceBuilder().events)).rejects.toMatchObject({
            code: 'INVALID_ID',
          });
          await expect(store.append(id, 'ok-trace', new TraceBuilder().events)).rejects.toMatchObject({
            code: 'INVALID_ID',
          });
        }
      }
      if (!store.readOnly) expect((await store.list(tenant)).traces).toEqual([]);
    });

    it(`is ${readOnly ? 'read-only' : 'writable'}, as its test file declares`, () => {
      expect(store.readOnly).toBe(readOnly);
    });

    it.runIf(readOnly)('refuses appends and deletes (read-only backend)', async () => {
      await expect(store.append('t', 'x', new TraceBuilder().events)).rejects.toMatchObject({
        code: 'STORE_READ_ONLY',
      });
      await expect(store.deleteTrace('t', 'x')).rejects.toMatchObject({ code: 'STORE_READ_ONLY' });
    });

    (readOnly ? describe.skip : describe)(`writes${readOnly ? ' (skipped: read-only backend)' : ''}`, () => {
      it('appends in several batches with expected revisions', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().llm().tool().complete();
        const r1 = await store.append(tenant, 'rev', b.events.slice(0, 3), { expectedRevision: 'no_stream' });
        expect(r1.nextExpectedRevision).toBe(2);
        expect(r1.positions.map((p) => p.seq)).toEqual([0, 1, 2]);
        await expect(store.append(tenant, 'rev', b.events.slice(3), { expectedRevision: 1 })).rejects.toMatchObject({
          code: 'WRONG_EXPECTED_REVISION',
        });
        await expect(
          store.append(tenant, 'rev', b.events.slice(3), { expectedRevision: 'no_stream' }),
        ).rejects.toMatchObject({
          code: 'WRONG_EXPECTED_REVISION',
        });
        const r2 = await store.append(tenant, 'rev', b.events.slice(3), { expectedRevision: 2 });
        expect(r2.nextExpectedRevision).toBe(b.events.length - 1);
        expect((await verifyTrace(store, tenant, 'rev')).ok).toBe(true);
      });

      it('a conflict error says how to retry', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().decision();
        await store.append(tenant, 'c', b.events.slice(0, 1));
        const err = await store
          .append(tenant, 'c', b.events.slice(1), { expectedRevision: 5 })
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'WRONG_EXPECTED_REVISION' });
        expect((err as { hint: string }).hint).toMatch(/retry/i);
      });

      it('makes exactly one of two concurrent appends at the same revision win', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder();
        await store.append(tenant, 'race', b.events, { expectedRevision: 'no_stream' });
        const one = [
          { ...new TraceBuilder().events[0]!, type: 'decision_made', payload: { decision: 'A' } } as NewEvent,
        ];
        const two = [
          { ...new TraceBuilder().events[0]!, type: 'decision_made', payload: { decision: 'B' } } as NewEvent,
        ];
        const results = await Promise.allSettled([
          store.append(tenant, 'race', one, { expectedRevision: 0 }),
          store.append(tenant, 'race', two, { expectedRevision: 0 }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toMatchObject({ code: 'WRONG_EXPECTED_REVISION' });
        expect((await store.summary(tenant, 'race'))?.eventCount).toBe(2);
      });

      it('treats re-appending stored eventIds as a no-op returning the original positions', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().llm().complete();
        const first = await store.append(tenant, 'idem', b.events, { expectedRevision: 'no_stream' });
        const again = await store.append(tenant, 'idem', b.events, { expectedRevision: 'no_stream' });
        expect(again.positions.map((p) => p.seq)).toEqual(first.positions.map((p) => p.seq));
        expect(again.positions.every((p) => p.duplicate)).toBe(true);
        // also with 'any', after the trace ended (a restore re-run): no lifecycle complaint, nothing written
        const restored = await store.append(tenant, 'idem', b.events, { expectedRevision: 'any' });
        expect(restored.positions.every((p) => p.duplicate)).toBe(true);
        expect((await store.summary(tenant, 'idem'))?.eventCount).toBe(b.events.length);
        // an eventId may not move to another trace
        if (fx.uniqueEventIdsAcrossTraces !== false)
          await expect(store.append(tenant, 'other', b.events.slice(0, 1))).rejects.toMatchObject({
            code: 'DUPLICATE_EVENT_ID',
          });
      });

      it('rejects a whole batch when one event fails its schema, naming the field', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().llm();
        const broken = [
          ...b.events,
          { ...b.events[1]!, eventId: randomUUID(), payload: { provider: 'openai' } } as NewEvent,
        ];
        const err = await store.append(tenant, 'schema', broken).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
        expect((err as Error).message).toMatch(/Event #3 .*payload\.operation/);
        expect(await store.exists(tenant, 'schema')).toBe(false);
      });

      it('rejects an over-size event and writes nothing of its batch', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().tool('bulk', {}, { blob: 'x'.repeat(9 * 1024 * 1024) });
        const err = await store.append(tenant, 'big', b.events).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'EVENT_TOO_LARGE' });
        expect(await store.exists(tenant, 'big')).toBe(false);
      });

      it('enforces the lifecycle and names the offending event and the rule', async () => {
        const tenant = uniq('t');
        const b = new TraceBuilder().llm();
        // does not start with agent_started
        const e1 = await store.append(tenant, 'lc1', b.events.slice(1)).catch((e: unknown) => e);
        expect(e1).toMatchObject({
          code: 'LIFECYCLE_VIOLATION',
          rule: 'starts-with-agent_started',
          eventId: b.events[1]!.eventId,
        });
        // a response with no request
        const orphan = { ...b.events[2]!, parentEventId: randomUUID() } as NewEvent;
        const e2 = await store.append(tenant, 'lc2', [b.events[0]!, orphan]).catch((e: unknown) => e);
        expect(e2).toMatchObject({ code: 'LIFECYCLE_VIOLATION', rule: 'response-has-request' });
        expect(await store.exists(tenant, 'lc2')).toBe(false);
        // nothing after the end
        const done = new TraceBuilder().complete();
        await store.append(tenant, 'lc3', done.events);
        const late = new TraceBuilder().decision().events[1]!;
        const e3 = await store.append(tenant, 'lc3', [late]).catch((e: unknown) => e);
        expect(e3).toMatchObject({ code: 'LIFECYCLE_VIOLATION', rule: 'nothing-after-end' });
        expect((e3 as Error).message).toContain(late.eventId);
        // exactly one end
        const twice = new TraceBuilder().complete().complete();
        await expect(store.append(tenant, 'lc4', twice.events)).rejects.toMatchObject({ rule: 'nothing-after-end' });
        expect((await store.summary(tenant, 'lc3'))?.eventCount).toBe(2);
      });

      it('deletes a whole trace (retention), and only that one', async () => {
        const tenant = uniq('t');
        await store.append(tenant, 'keep', new TraceBuilder().complete().events);
        await store.append(tenant, 'drop', new TraceBuilder().complete().events);
        expect(await store.deleteTrace(tenant, 'drop')).toBe(true);
        expect(await store.deleteTrace(tenant, 'drop')).toBe(false);
        expect(await store.exists(tenant, 'drop')).toBe(false);
        expect(await store.exists(tenant, 'keep')).toBe(true);
      });
    });
  });
}
