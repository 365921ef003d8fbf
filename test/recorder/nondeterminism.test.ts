import { randomUUID as namedRandomUUID, getRandomValues as namedGetRandomValues, webcrypto } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StoredEvent, StoredEventOf } from '../../src/events/envelope.js';
import {
  createRecorder,
  type NondeterminismSource,
  type Recorder,
  type ReplayHooks,
} from '../../src/recorder/index.js';
import { readTrace, tempStore } from './helpers.js';

/**
 * Values the agent observes from the clock, Math.random and crypto inside a run are recorded in order (one compact
 * event per source before the next event), served from ReplayHooks when installed, and untouched outside runs. The
 * recorder's own timestamps, ids and latencies never show up among them.
 */
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;
beforeAll(() => {
  t = tempStore();
  recorder = createRecorder({ store: t.store, captureHttp: false });
});
afterAll(async () => {
  await recorder.close();
  await t.cleanup();
});

function valuesBySource(events: StoredEvent[]): Record<string, Array<number | string>> {
  const out: Record<string, Array<number | string>> = {};
  for (const e of events) {
    if (e.type !== 'nondeterminism') continue;
    (out[e.payload.source] ??= []).push(...e.payload.values);
  }
  return out;
}

function observeAll() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  const nodeBytes = new Uint8Array(4);
  namedGetRandomValues(nodeBytes);
  return {
    dateNow: Date.now(),
    date: new Date().getTime(),
    dateString: Date(),
    perf: performance.now(),
    random: Math.random(),
    uuid: crypto.randomUUID(),
    nodeUuid: namedRandomUUID(),
    webUuid: webcrypto.randomUUID(),
    bytes: Buffer.from(bytes).toString('base64'),
    nodeBytes: Buffer.from(nodeBytes).toString('base64'),
    // with arguments: not nondeterministic, not recorded
    fixed: new Date(0).getTime(),
  };
}

test('every source is recorded in order inside a run; outside a run nothing is', async () => {
  const before = observeAll();
  const { output, traceId } = await recorder.run({ agent: 'nd' }, async (ctx) => {
    const first = observeAll();
    await new Promise((r) => setTimeout(r, 2));
    ctx.event('decision_made', { decision: 'between' });
    const second = observeAll();
    const tool = ctx.tool('clock', async () => Date.now());
    const fromTool = await tool();
    return { first, second, fromTool };
  });
  const after = observeAll();
  expect(before.fixed).toBe(0);
  expect(after.uuid).toMatch(/^[0-9a-f-]{36}$/);

  const events = await readTrace(t.store, 'default', traceId);
  const v = valuesBySource(events);
  const { first, second, fromTool } = output;
  expect(v['Date.now']).toEqual([first.dateNow, second.dateNow, fromTool]);
  // new Date() and Date() (the string form, recorded as its number)
  expect(v.Date).toHaveLength(4);
  expect([v.Date?.[0], v.Date?.[2]]).toEqual([first.date, second.date]);
  expect(new Date(v.Date?.[1] as number).toString()).toBe(first.dateString);
  expect(new Date(v.Date?.[3] as number).toString()).toBe(second.dateString);
  expect(v['performance.now']).toEqual([first.perf, second.perf]);
  expect(v['Math.random']).toEqual([first.random, second.random]);
  expect(v['crypto.randomUUID']).toEqual([
    first.uuid,
    first.nodeUuid,
    first.webUuid,
    second.uuid,
    second.nodeUuid,
    second.webUuid,
  ]);
  expect(v['crypto.getRandomValues']).toEqual([first.bytes, first.nodeBytes, second.bytes, second.nodeBytes]);

  // compact and positioned: values observed before the decision are written before it, one event per source
  const types = events.map((e) => (e.type === 'nondeterminism' ? `nd:${e.payload.source}` : e.type));
  const decision = types.indexOf('decision_made');
  expect(types.slice(1, decision).sort()).toEqual(
    [
      'nd:Date',
      'nd:Date.now',
      'nd:Math.random',
      'nd:crypto.getRandomValues',
      'nd:crypto.randomUUID',
      'nd:performance.now',
    ].sort(),
  );
  // the recorder's own eventIds and timestamps are not among the recorded values
  const uuids = new Set(v['crypto.randomUUID']);
  expect(events.some((e) => uuids.has(e.eventId))).toBe(false);
});

test('20 concurrent runs: each trace holds exactly its own values', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      recorder.run({ agent: 'nd-conc' }, async () => {
        const seen: number[] = [];
        for (let k = 0; k < 5; k++) {
          seen.push(Math.random());
          await new Promise((r) => setTimeout(r, (i * 3 + k) % 4));
        }
        return seen;
      }),
    ),
  );
  for (const { output, traceId } of results) {
    const v = valuesBySource(await readTrace(t.store, 'default', traceId));
    expect(v['Math.random']).toEqual(output);
  }
});

test('with ReplayHooks the recorded values are served back, and recorded again', async () => {
  const served: Partial<Record<NondeterminismSource, Array<number | string>>> = {
    'Date.now': [1_700_000_000_000, 1_700_000_000_500],
    Date: [1_600_000_000_000],
    'performance.now': [12.5],
    'Math.random': [0.25, 0.75],
    'crypto.randomUUID': ['11111111-2222-4333-8444-555555555555'],
    'crypto.getRandomValues': [Buffer.from([1, 2, 3, 4]).toString('base64')],
  };
  const hooks: ReplayHooks = {
    respondHttp: async () => undefined,
    respondTool: async () => 'run-live',
    nextValue: (source) => served[source]?.shift(),
  };
  const local = tempStore();
  const replay = createRecorder({ store: local.store, hooks, captureHttp: false });
  const { output, traceId } = await replay.run({ agent: 'nd-replay' }, async () => {
    const bytes = new Uint8Array(4);
    crypto.getRandomValues(bytes);
    return {
      a: Date.now(),
      b: Date.now(),
      c: Date.now(), // the recording ran out: a real value
      d: new Date().getTime(),
      e: performance.now(),
      f: [Math.random(), Math.random()],
      g: crypto.randomUUID(),
      h: [...bytes],
    };
  });
  expect(output).toMatchObject({
    a: 1_700_000_000_000,
    b: 1_700_000_000_500,
    d: 1_600_000_000_000,
    e: 12.5,
    f: [0.25, 0.75],
    g: '11111111-2222-4333-8444-555555555555',
    h: [1, 2, 3, 4],
  });
  expect(output.c).toBeGreaterThan(1_700_000_000_500);
  const v = valuesBySource(await readTrace(local.store, 'default', traceId));
  expect(v['Date.now']).toEqual([output.a, output.b, output.c]);
  expect(v['Math.random']).toEqual([0.25, 0.75]);
  // the replay trace's own timestamps come from the real clock, not from the served values
  const started = (await readTrace(local.store, 'default', traceId))[0] as StoredEventOf<'agent_started'>;
  expect(Math.abs(Date.parse(started.timestamp) - Date.now())).toBeLessThan(60_000);
  await replay.close();
  await local.cleanup();
});

test('captureNondeterminism: false leaves the globals alone', async () => {
  const local = tempStore();
  const r = createRecorder({ store: local.store, captureHttp: false, captureNondeterminism: false });
  const { traceId } = await r.run({ agent: 'nd-off' }, async () => [Date.now(), Math.random()]);
  expect((await readTrace(local.store, 'default', traceId)).some((e) => e.type === 'nondeterminism')).toBe(false);
  await r.close();
  await local.cleanup();
});
