import { openStore, newEventId, newTraceId } from '../src/index.ts';
const store = await openStore('sqlite:/tmp/rt/s.db');
const tid = newTraceId();
const now = new Date().toISOString();
const env = { node: process.version, platform: process.platform, arch: process.arch, retraceVersion: '0.1.0' };
const startId = newEventId();
await store.append('t1', tid, [{ eventId: startId, type: 'agent_started', timestamp: now, payload: { agent: 'a', input: { q: 1 }, environment: env } }], { expectedRevision: 'no_stream' });
const N = 50000;
const t0 = performance.now();
let rev = 0;
for (let b = 0; b < N / 100; b++) {
  const evs = [];
  for (let i = 0; i < 100; i++) evs.push({ eventId: newEventId(), type: 'decision_made' as const, timestamp: now, payload: { decision: 'x'.repeat(20), data: { i, text: 'y'.repeat(800) } } });
  const r = await store.append('t1', tid, evs, { expectedRevision: rev });
  rev = r.nextExpectedRevision;
}
const t1 = performance.now();
console.log('append/s', Math.round(N / ((t1 - t0) / 1000)));
let n = 0; const t2 = performance.now();
for await (const e of store.read('t1', tid, { toSeq: 10000 })) n++;
console.log('read 10k ms', performance.now() - t2, n);
console.log(await store.list('t1'));
await store.close();
