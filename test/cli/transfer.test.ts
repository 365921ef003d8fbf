import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { StoredEventSchema, type StoredEvent } from '../../src/events/envelope.js';
import { openStore } from '../../src/store/open-store.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/** `retrace export` and `retrace import`: NDJSON round trips, validation, atomicity and idempotency. */
const ImportOutputSchema = z.strictObject({
  tenantId: z.string(),
  file: z.string(),
  traces: z.array(
    z.strictObject({ traceId: z.string(), events: z.number().int(), result: z.enum(['imported', 'unchanged']) }),
  ),
});

const source = tempStore('source.db');
const env = { RETRACE_STORE: source.url };

function ndjson(text: string): StoredEvent[] {
  return text
    .trim()
    .split('\n')
    .map((l) => StoredEventSchema.parse(JSON.parse(l)) as unknown as StoredEvent);
}

async function readAll(url: string, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const store = await openStore(url);
  try {
    const out: StoredEvent[] = [];
    for await (const e of store.read(tenant, traceId)) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}

async function traceIds(url: string, tenant = 'default'): Promise<string[]> {
  const store = await openStore(url);
  try {
    return (await store.list(tenant)).traces.map((t) => t.traceId).sort();
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  await Promise.all([
    ensureBuilt(),
    seed(source.url, {
      alpha: new TraceBuilder('support').llm('gpt-4o-mini', 'hi').tool('search').decision().complete().events,
      beta: new TraceBuilder('billing').llm().fail().events,
    }),
  ]);
}, BUILD_TIMEOUT_MS);
afterAll(() => source.cleanup());

describe('retrace export', () => {
  it('writes NDJSON to stdout, one StoredEvent per line, in seq order', async () => {
    const r = await retrace(['export', 'alpha'], env);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.map((e) => e.traceId)).toEqual(Array(7).fill('alpha'));
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('--out writes the file; an unknown trace writes nothing and exits 2', async () => {
    const out = join(source.dir, 'nested', 'alpha.ndjson');
    const r = await retrace(['export', 'alpha', '--out', out], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`exported 7 events of alpha to ${out}`);
    expect(ndjson(readFileSync(out, 'utf8'))).toEqual(await readAll(source.url, 'default', 'alpha'));

    const missing = join(source.dir, 'missing.ndjson');
    const bad = await retrace(['export', 'nope', '--out', missing], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('No trace "nope"');
    expect(existsSync(missing)).toBe(false);
  });

  it("a path-traversal trace id: exit 2 with the store's message", async () => {
    const r = await retrace(['export', '../../etc/passwd'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid trace id "../../etc/passwd": it contains a path separator.');
  });
});

describe('retrace import', () => {
  it('export → import into another store gives identical events; importing twice changes nothing', async () => {
    const file = join(source.dir, 'both.ndjson');
    const a = await retrace(['export', 'alpha'], env);
    const b = await retrace(['export', 'beta'], env);
    writeFileSync(file, a.stdout + b.stdout);
    const target = tempStore('target.db');
    try {
      const first = await retrace(['import', file, '--json'], { RETRACE_STORE: target.url });
      expect(first.code).toBe(0);
      expect(ImportOutputSchema.parse(JSON.parse(first.stdout)).traces).toEqual([
        { traceId: 'alpha', events: 7, result: 'imported' },
        { traceId: 'beta', events: 4, result: 'imported' },
      ]);
      for (const id of ['alpha', 'beta']) {
        expect(await readAll(target.url, 'default', id)).toEqual(await readAll(source.url, 'default', id));
      }
      const before = readFileSync(target.path).length;
      const second = await retrace(['import', file], { RETRACE_STORE: target.url });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('0 of 2 trace(s) imported');
      expect(second.stdout).toMatch(/^unchanged {2}alpha {2}7 events$/m);
      expect(await readAll(target.url, 'default', 'alpha')).toEqual(await readAll(source.url, 'default', 'alpha'));
      expect(await traceIds(target.url)).toEqual(['alpha', 'beta']);
      expect(readFileSync(target.path).length).toBe(before);
    } finally {
      target.cleanup();
    }
  });

  it('interleaved lines of several traces are fine; --tenant decides where they go', async () => {
    const a = (await retrace(['export', 'alpha'], env)).stdout.trim().split('\n');
    const b = (await retrace(['export', 'beta'], env)).stdout.trim().split('\n');
    const mixed: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      mixed.push(...[a[i], b[i]].filter((l): l is string => l !== undefined));
    const file = join(source.dir, 'mixed.ndjson');
    writeFileSync(file, `${mixed.join('\n')}\n`);
    const target = tempStore();
    try {
      const r = await retrace(['import', file, '--tenant', 'team-x'], { RETRACE_STORE: target.url });
      expect(r.code).toBe(0);
      expect(await traceIds(target.url, 'team-x')).toEqual(['alpha', 'beta']);
      expect(await traceIds(target.url, 'default')).toEqual([]);
      const imported = await readAll(target.url, 'team-x', 'beta');
      expect(imported.map((e) => e.eventId)).toEqual(ndjson(b.join('\n')).map((e) => e.eventId));
      expect((await retrace(['verify', '--tenant', 'team-x'], { RETRACE_STORE: target.url })).code).toBe(0);
    } finally {
      target.cleanup();
    }
  });

  it.each([
    ['not JSON', (line: string) => `${line.slice(0, 20)}`, 'not valid JSON'],
    ['a schema violation', (line: string) => line.replace('"seq":2', '"seq":"two"'), 'fails its schema at seq'],
    [
      'an altered payload',
      (line: string) => line.replace('"latencyMs":12', '"latencyMs":13'),
      'hash-chain broken at seq 2',
    ],
  ])('one malformed line (%s): nothing imported, the line number reported, exit 2', async (_name, corrupt, message) => {
    const lines = [
      ...(await retrace(['export', 'beta'], env)).stdout.trim().split('\n'),
      ...(await retrace(['export', 'alpha'], env)).stdout.trim().split('\n'),
    ];
    // line 7 of the file is alpha's seq 2 (beta has 4 lines)
    lines[6] = corrupt(lines[6] ?? '');
    const file = join(source.dir, 'bad.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const target = tempStore();
    try {
      const r = await retrace(['import', file], { RETRACE_STORE: target.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file} line 7: `);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('Nothing was imported.');
      expect(await traceIds(target.url)).toEqual([]);
    } finally {
      target.cleanup();
    }
  });

  it("a gap in a trace's seq is rejected with its line", async () => {
    const lines = (await retrace(['export', 'alpha'], env)).stdout.trim().split('\n');
    lines.splice(3, 1);
    const file = join(source.dir, 'gap.ndjson');
    writeFileSync(file, lines.join('\n'));
    const target = tempStore();
    try {
      const r = await retrace(['import', file], { RETRACE_STORE: target.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('line 4: trace "alpha" has seq 4 where seq 3 was expected');
    } finally {
      target.cleanup();
    }
  });

  it('a trace that exists with different events is a conflict: nothing imported, exit 2', async () => {
    const target = tempStore();
    try {
      await seed(target.url, { alpha: new TraceBuilder('someone-else').complete().events });
      const file = join(source.dir, 'conflict.ndjson');
      writeFileSync(
        file,
        (await retrace(['export', 'beta'], env)).stdout + (await retrace(['export', 'alpha'], env)).stdout,
      );
      const r = await retrace(['import', file], { RETRACE_STORE: target.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Trace "alpha" already exists in tenant "default" with different events');
      // beta came first in the file, and still was not imported
      expect(await traceIds(target.url)).toEqual(['alpha']);
    } finally {
      target.cleanup();
    }
  });

  it('a missing file, a folder and an empty file are input errors', async () => {
    const missing = await retrace(['import', join(source.dir, 'nope.ndjson')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const folder = await retrace(['import', source.dir], env);
    expect(folder.code).toBe(2);
    const empty = join(source.dir, 'empty.ndjson');
    writeFileSync(empty, '\n\n');
    const r = await retrace(['import', empty], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds no events');
  });
});
