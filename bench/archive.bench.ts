import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { archiveTraces, restoreTraces, S3EventStore } from '../src/store/s3/index.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-store.js';
import type { EventStore } from '../src/store/types.js';
import { TraceBuilder } from '../test/helpers/trace-builder.js';
import { startS3rver } from '../test/store/archive-fixtures.js';
import type { BenchRow } from './types.js';

/**
 * Archive and restore throughput of one 10k-event trace against s3rver (a local S3 in a child process), next to the
 * embedded store's read speed measured in the same run — archive and restore are bounded by reading the source, so
 * that is the baseline. Each figure is the median of REPS runs. s3rver is far slower than real S3 per request, but a
 * single large trace is a handful of requests, so the numbers mostly measure encode/verify work.
 */
const EVENTS = 10_000;
const REPS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function drain(store: EventStore, tenant: string, trace: string): Promise<number> {
  let n = 0;
  for await (const _e of store.read(tenant, trace)) n += 1;
  return n;
}

function bigTrace(): TraceBuilder {
  const b = new TraceBuilder('bench-agent');
  // ≈ a real agent: LLM round trips with tool calls in between, ending at exactly EVENTS events
  while (b.events.length < EVENTS - 4)
    b.llm('gpt-4o-mini', 'a reasonably sized model answer '.repeat(4)).tool('search', { q: 'x' }, { hits: [1, 2, 3] });
  while (b.events.length < EVENTS - 1) b.decision('step');
  return b.complete();
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-archive-'));
  const s3 = await startS3rver('bench');
  try {
    const hot = new SqliteEventStore(join(dir, 'hot.db'));
    const events = bigTrace().events;
    for (let i = 0; i < events.length; i += 1000) await hot.append('bench', 'big', events.slice(i, i + 1000));
    const eps = (ms: number) => Math.round(EVENTS / (ms / 1000));

    const readMs: number[] = [];
    for (let r = 0; r < REPS; r++) readMs.push(await timed(async () => void (await drain(hot, 'bench', 'big'))));

    const archiveMs: number[] = [];
    const coldReadMs: number[] = [];
    const restoreMs: number[] = [];
    let compressed = 0;
    let uncompressed = 0;
    for (let r = 0; r < REPS; r++) {
      const url = s3.url(`run-${r}`);
      const cold = S3EventStore.fromUrl(url);
      archiveMs.push(
        await timed(async () => {
          const rep = await archiveTraces({ from: hot, tenantId: 'bench', traceIds: ['big'], to: cold });
          if (rep.archived !== 1) throw rep.results[0]?.error ?? new Error('archive failed');
        }),
      );
      coldReadMs.push(
        await timed(async () => {
          if ((await drain(cold, 'bench', 'big')) !== EVENTS) throw new Error('short read from S3');
        }),
      );
      const target = new SqliteEventStore(join(dir, `restore-${r}.db`));
      restoreMs.push(
        await timed(async () => {
          const rep = await restoreTraces({ from: cold, to: target, tenantId: 'bench', traceIds: ['big'] });
          if (rep.results[0]?.outcome !== 'restored') throw rep.results[0]?.error ?? new Error('restore failed');
        }),
      );
      const m = await cold.archive.manifest('bench', 'big');
      compressed = m?.compressedBytes ?? 0;
      uncompressed = m?.uncompressedBytes ?? 0;
      await target.close();
      await cold.close();
    }
    await hot.close();

    const base = eps(median(readMs));
    return [
      { name: `sqlite read of a ${EVENTS}-event trace (baseline)`, value: base, unit: 'events/s' },
      {
        name: 'archive to S3 (read hot + gzip NDJSON + create-only puts)',
        value: eps(median(archiveMs)),
        unit: 'events/s',
        ratio: eps(median(archiveMs)) / base,
      },
      {
        name: 'read from the S3 store (get + gunzip + sha256 + hash chain)',
        value: eps(median(coldReadMs)),
        unit: 'events/s',
        ratio: eps(median(coldReadMs)) / base,
      },
      {
        name: 'restore into a fresh sqlite store (verified read + appends of 1000)',
        value: eps(median(restoreMs)),
        unit: 'events/s',
        ratio: eps(median(restoreMs)) / base,
      },
      {
        name: 'archive object size (gzip / raw NDJSON)',
        value: Math.round(compressed / 1024),
        unit: 'KiB',
        ratio: uncompressed ? compressed / uncompressed : 0,
      },
    ];
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printTable } = await import('./table.js');
  printTable('archive', await run());
}
