import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rawDatabase } from './raw-database.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { verifyTrace } from '../../src/store/verify.js';
import { TraceBuilder, tempDir } from '../helpers/trace-builder.js';

const WRITER = join(import.meta.dirname, 'children', 'writer.ts');
const dir = tempDir('retrace-faults-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writer(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function lines(child: ChildProcess, onLine: (line: string) => void): Promise<number | null> {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('embedded store under faults', () => {
  it('lets exactly one of two writer processes win the same expected revision', async () => {
    const db = join(dir, 'race.db');
    const store = await openStore(`sqlite:${db}`);
    await store.append('t', 'race', new TraceBuilder().events, { expectedRevision: 'no_stream' });
    const outputs: string[] = [];
    const racers = [writer(['race', db, 'race', '0']), writer(['race', db, 'race', '0'])];
    const exits = racers.map((c) => lines(c, (l) => outputs.push(l)));
    // give both time to open the store, then release them together
    await new Promise((r) => setTimeout(r, 1500));
    for (const c of racers) c.stdin!.end('go\n');
    await Promise.all(exits);
    expect(outputs.sort()).toEqual(['WRONG_EXPECTED_REVISION', 'won']);
    expect((await store.summary('t', 'race'))?.eventCount).toBe(2);
    await store.close();
  });

  it('leaves a complete, chain-checked prefix when a writer is SIGKILLed mid-batch, and lists it incomplete', async () => {
    const db = join(dir, 'kill.db');
    const child = writer(['big', db, 'killed', '400', '500']);
    let batches = 0;
    const exited = lines(child, (l) => {
      if (l.startsWith('batch ')) batches += 1;
      if (batches === 5) child.kill('SIGKILL');
    });
    await exited;
    const store = await openStore(`sqlite:${db}`);
    const summary = await store.summary('t', 'killed');
    expect(summary).toBeDefined();
    // whole batches only: 1 agent_started + k × 500
    expect((summary!.eventCount - 1) % 500).toBe(0);
    expect(summary!.eventCount).toBeGreaterThanOrEqual(1 + 5 * 500);
    expect(summary!.status).toBe('incomplete');
    const events = await collect(store.read('t', 'killed'));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    const verdict = await verifyTrace(store, 't', 'killed');
    expect(verdict.problems).toEqual([]);
    expect((await store.list('t', { status: 'incomplete' })).traces.map((t) => t.traceId)).toEqual(['killed']);
    await store.close();
  });

  it("shows a live writer's unfinished trace as running, and as incomplete once it is killed", async () => {
    const db = join(dir, 'hang.db');
    const child = writer(['hang', db, 'hanging']);
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const exited = lines(child, (l) => l === 'started' && ready());
    await started;
    const store = await openStore(`sqlite:${db}`);
    expect((await store.summary('t', 'hanging'))?.status).toBe('running');
    child.kill('SIGKILL');
    await exited;
    expect((await store.summary('t', 'hanging'))?.status).toBe('incomplete');
    await store.close();
  });

  it('lets several processes record into one file at once', async () => {
    const db = join(dir, 'many.db');
    const children = [0, 1, 2].map((i) => writer(['many', db, `p${i}`, '40']));
    const codes = await Promise.all(children.map((c) => lines(c, () => undefined)));
    expect(codes).toEqual([0, 0, 0]);
    const store = await openStore(`sqlite:${db}`);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list('t', { limit: 50, ...(cursor ? { cursor } : {}) });
      ids.push(...page.traces.map((t) => t.traceId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(120);
    for (const id of ids.slice(0, 10)) expect((await verifyTrace(store, 't', id)).ok).toBe(true);
    await store.close();
  });

  it('refuses a file that is not a retrace store, and leaves it untouched', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some notes, definitely not a database\n');
    await expect(openStore(`sqlite:${text}`)).rejects.toMatchObject({ code: 'NOT_A_RETRACE_STORE' });
    expect(readFileSync(text, 'utf8')).toBe('just some notes, definitely not a database\n');

    const other = join(dir, 'other-app.db');
    const foreign = rawDatabase(other);
    foreign.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')");
    foreign.close();
    const before = statSync(other).size;
    const err = await openStore(`sqlite:${other}`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_A_RETRACE_STORE' });
    expect((err as { hint: string }).hint).toMatch(/RETRACE_STORE/);
    expect(statSync(other).size).toBe(before);
  });

  it('reports a corrupt store file clearly instead of crashing or returning nothing', async () => {
    const good = join(dir, 'good.db');
    const store = await openStore(`sqlite:${good}`);
    for (let i = 0; i < 30; i++) {
      const b = new TraceBuilder();
      for (let j = 0; j < 20; j++) b.decision(`d${j} ${'x'.repeat(200)}`);
      await store.append('t', `c${i}`, b.complete().events);
    }
    await store.close();
    const bad = join(dir, 'bad.db');
    copyFileSync(good, bad);
    // keep the 100-byte header, trash every page after the first
    const size = statSync(bad).size;
    const fd = openSync(bad, 'r+');
    const junk = Buffer.alloc(4096, 0xa5);
    for (let off = 4096; off < size; off += 4096) writeSync(fd, junk, 0, junk.length, off);
    closeSync(fd);
    const outcome = await (async () => {
      const s = await openStore(`sqlite:${bad}`);
      try {
        await s.list('t');
        await collect(s.read('t', 'c3'));
        return 'no error';
      } finally {
        await s.close();
      }
    })().catch((e: unknown) => e);
    expect(outcome).toMatchObject({
      code: expect.stringMatching(/^(STORE_CORRUPT|NOT_A_RETRACE_STORE|CORRUPT_EVENT)$/),
    });
  });

  it('reports a tampered event through verify, naming the seq and the rule', async () => {
    const db = join(dir, 'tamper.db');
    const store = await openStore(`sqlite:${db}`);
    await store.append('t', 'tampered', new TraceBuilder().llm('gpt-4o', 'original prompt').complete().events);
    await store.close();
    const raw = rawDatabase(db);
    const row = raw.prepare("SELECT id, body FROM events WHERE trace_id = 'tampered' AND seq = 1").get() as {
      id: number;
      body: string;
    };
    raw
      .prepare('UPDATE events SET body = ? WHERE id = ?')
      .run(row.body.replace('original prompt', 'edited prompt!!'), row.id);
    raw.close();
    const reopened = await openStore(`sqlite:${db}`);
    const verdict = await verifyTrace(reopened, 't', 'tampered');
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0]).toMatchObject({ seq: 1, rule: 'hash-chain' });
    await reopened.close();
  });

  it('never writes a batch with a bad event, even after good ones in the same batch', async () => {
    const db = join(dir, 'atomic.db');
    const store = await openStore(`sqlite:${db}`);
    const b = new TraceBuilder().llm().tool();
    const events = [
      ...b.events,
      { eventId: randomUUID(), timestamp: 'yesterday', type: 'decision_made', payload: { decision: 'x' } },
    ];
    const err = await store.append('t', 'atomic', events as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', field: 'timestamp' });
    expect(await store.exists('t', 'atomic')).toBe(false);
    await store.close();
  });
});
