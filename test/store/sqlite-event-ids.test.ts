import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/envelope.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import { verifyTrace } from '../../src/store/verify.js';
import { TraceBuilder, tempDir } from '../helpers/trace-builder.js';
import { rawDatabase } from './raw-database.js';

/**
 * The eventId index of layout 2 (src/store/sqlite/event-id-index.ts): recent ids held in memory per connection, the
 * rest merged into a sorted table. A low merge threshold makes every case cross merges; two connections on one file
 * stand for two processes.
 */
const dir = tempDir('retrace-event-ids-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fresh(mergeAt = 7): { path: string; open: () => SqliteEventStore } {
  const path = join(dir, `s${n++}.db`);
  return { path, open: () => new SqliteEventStore(path, { eventIdMergeAt: mergeAt }) };
}

/** a started trace with `decisions` more events, in batches of `batch` */
function trace(decisions: number): TraceBuilder {
  const b = new TraceBuilder('ids');
  for (let i = 0; i < decisions; i++) b.decision(`d${i}`);
  return b;
}

async function appendAll(store: SqliteEventStore, traceId: string, events: NewEvent[], batch: number) {
  const seqs: number[] = [];
  let rev: number | 'no_stream' = 'no_stream';
  for (let i = 0; i < events.length; i += batch) {
    const r = await store.append('t', traceId, events.slice(i, i + batch), { expectedRevision: rev });
    rev = r.nextExpectedRevision;
    seqs.push(...r.positions.map((p) => p.seq));
  }
  return seqs;
}

function counts(path: string): { events: number; merged: number; recent: number } {
  const db = rawDatabase(path);
  const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const out = {
    events: one('SELECT count(*) AS n FROM events'),
    merged: one('SELECT count(*) AS n FROM event_ids'),
    recent: one('SELECT count(*) AS n FROM recent_event_ids'),
  };
  db.close();
  return out;
}

describe('embedded store eventId index', () => {
  it('finds stored ids on both sides of a merge, in this trace (no-op) and in another (refused)', async () => {
    const { path, open } = fresh();
    const store = open();
    const b = trace(40);
    const seqs = await appendAll(store, 'a', b.events, 5);
    const c = counts(path);
    // every event is indexed exactly once: merged, or still recent
    expect(c.merged + c.recent).toBe(c.events);
    expect(c.merged).toBeGreaterThan(0);
    for (const slice of [b.events.slice(0, 5), b.events.slice(-3), [b.events[2], b.events[39]] as NewEvent[]]) {
      const again = await store.append('t', 'a', slice, { expectedRevision: 'any' });
      expect(again.positions.every((p) => p.duplicate)).toBe(true);
      expect(again.positions.map((p) => p.seq)).toEqual(slice.map((e) => seqs[b.events.indexOf(e)]));
    }
    for (const e of [b.events[1], b.events[40]] as NewEvent[]) {
      await expect(store.append('t', 'other', [e])).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
    }
    // other tenants have their own ids
    const elsewhere = await store.append('u', 'a', b.events.slice(0, 1), { expectedRevision: 'no_stream' });
    expect(elsewhere.positions[0]?.duplicate).toBe(false);
    // a batch that mixes stored and new ids writes only the new ones, after the current end
    const more = new TraceBuilder('ids');
    more.events.splice(0, 1);
    more.decision('late');
    const mixed = await store.append('t', 'a', [b.events[3] as NewEvent, ...more.events], { expectedRevision: 40 });
    expect(mixed.positions).toEqual([
      { eventId: b.events[3]?.eventId, seq: 3, duplicate: true },
      { eventId: more.events[0]?.eventId, seq: 41, duplicate: false },
    ]);
    expect((await verifyTrace(store, 't', 'a')).problems).toEqual([]);
    await store.close();
  });

  it('sees what another connection appended and merged, and the other way round', async () => {
    const { open } = fresh();
    const one = open();
    const two = open();
    const a = trace(20);
    await appendAll(one, 'a', a.events, 4);
    // two has never appended: it loads the recent ids; the older ones it finds merged
    for (const e of [a.events[0], a.events[20]] as NewEvent[]) {
      await expect(two.append('t', 'b', [e])).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
      expect((await two.append('t', 'a', [e])).positions[0]?.duplicate).toBe(true);
    }
    const b = trace(20);
    await appendAll(two, 'b', b.events, 3);
    // one's tail is from before two's appends and merges
    for (const e of [b.events[0], b.events[10], b.events[20]] as NewEvent[]) {
      await expect(one.append('t', 'a', [e])).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
      expect((await one.append('t', 'b', [e])).positions[0]?.duplicate).toBe(true);
    }
    await one.close();
    await two.close();
  });

  it('forgets a deleted trace everywhere, so restoring it writes it again', async () => {
    const { path, open } = fresh();
    const one = open();
    const two = open();
    const b = trace(12);
    await appendAll(one, 'a', b.events, 4);
    // two holds recent ids of trace a
    expect((await two.append('t', 'a', b.events.slice(-1))).positions[0]?.duplicate).toBe(true);
    expect(await one.deleteTrace('t', 'a')).toBe(true);
    expect(counts(path)).toEqual({ events: 0, merged: 0, recent: 0 });
    const restored = await two.append('t', 'a', b.events, { expectedRevision: 'no_stream' });
    expect(restored.positions.every((p) => !p.duplicate)).toBe(true);
    expect((await one.append('t', 'a', b.events.slice(0, 2))).positions.every((p) => p.duplicate)).toBe(true);
    expect((await verifyTrace(one, 't', 'a')).ok).toBe(true);
    await one.close();
    await two.close();
  });

  it('keeps no trace of an append that was refused, nor of the merge it started', async () => {
    const { open } = fresh(3);
    const store = open();
    const b = trace(4);
    await store.append('t', 'a', b.events.slice(0, 3), { expectedRevision: 'no_stream' });
    const rest = b.events.slice(3);
    // the tail is full, so this append merges it first, then fails its revision check: all of it rolls back
    await expect(store.append('t', 'a', rest, { expectedRevision: 0 })).rejects.toMatchObject({
      code: 'WRONG_EXPECTED_REVISION',
    });
    expect((await store.append('t', 'a', b.events.slice(0, 3))).positions.every((p) => p.duplicate)).toBe(true);
    const ok = await store.append('t', 'a', rest, { expectedRevision: 2 });
    expect(ok.positions.map((p) => [p.seq, p.duplicate])).toEqual([
      [3, false],
      [4, false],
    ]);
    expect((await store.append('t', 'a', b.events)).positions.every((p) => p.duplicate)).toBe(true);
    await store.close();
  });

  it('reads an older (layout 1) store without changing it, and moves it to layout 2 on the first write', async () => {
    const { path, open } = fresh();
    const b = trace(10);
    const writer = open();
    await appendAll(writer, 'old', b.events, 4);
    await writer.close();
    // make the file what layout 1 wrote: a unique index on events instead of the eventId tables
    const raw = rawDatabase(path);
    raw.exec(`DROP TABLE event_ids; DROP TABLE recent_event_ids; DROP TABLE store_meta;
      CREATE UNIQUE INDEX events_by_event_id ON events (tenant_id, event_id); PRAGMA user_version = 1;`);
    raw.close();
    const layout = () => {
      const db = rawDatabase(path);
      const v = db.pragma('user_version', { simple: true });
      db.close();
      return v;
    };
    const store = open();
    expect((await store.summary('t', 'old'))?.eventCount).toBe(11);
    expect((await verifyTrace(store, 't', 'old')).ok).toBe(true);
    expect(layout()).toBe(1);
    const again = await store.append('t', 'old', b.events.slice(3, 6));
    expect(again.positions.map((p) => [p.seq, p.duplicate])).toEqual([
      [3, true],
      [4, true],
      [5, true],
    ]);
    expect(layout()).toBe(2);
    await expect(store.append('t', 'new', b.events.slice(0, 1))).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
    const c = counts(path);
    expect(c.merged + c.recent).toBe(c.events);
    await store.close();
  });
});
