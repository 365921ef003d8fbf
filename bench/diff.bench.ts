/**
 * Diff benchmark: two traces with scattered changes at 1k / 10k / 100k events.
 * Targets: 10k events with 10 changes ≤ 300 ms; 100k ≤ 3 s; growth from 1k to 100k about linear. Each of these times
 * is compared with a baseline measured in the same run on the same events: one JSON.stringify equality pass over the
 * pairs (the least any diff must do: look at every event once).
 * Issue 17 target 7: diffing the 100k pair streamed from NDJSON peaks ≤ 256 MB RSS and takes ≤ 1.2× the time of
 * reading both whole and diffing the arrays (see `streamed`).
 *
 *   node --import tsx bench/diff.bench.ts            (add --expose-gc for cleaner memory numbers)
 *
 * `run()` returns rows for bench/run.ts to aggregate.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { diffTraces, type DiffReport } from '../src/diff/index.js';
import type { StoredEvent } from '../src/events/envelope.js';
import { printTable } from './table.js';
import type { BenchRow } from './types.js';

const HEX = '0'.repeat(64);
const ORIGIN = Date.UTC(2026, 0, 1);

/** A synthetic agent run: repeated LLM round trips and tool calls, with realistic small payloads. */
function makeTrace(
  traceId: string,
  n: number,
  opts: { shiftMs: number; jitter: number; changes: ReadonlySet<number> },
): StoredEvent[] {
  const events: StoredEvent[] = [];
  const env = { tenantId: 'bench', traceId, prevHash: HEX, hash: HEX, schemaVersion: 1 as const };
  const push = (type: StoredEvent['type'], payload: unknown): void => {
    const seq = events.length;
    events.push({
      ...env,
      eventId: `00000000-0000-4000-8000-${(seq + (traceId === 'b' ? 5e8 : 0)).toString(16).padStart(12, '0')}`,
      seq,
      type,
      timestamp: new Date(ORIGIN + opts.shiftMs + seq * 7).toISOString(),
      payload,
    } as StoredEvent);
  };
  push('agent_started', {
    agent: 'bench',
    mode: 'api',
    input: { q: 'go' },
    environment: { node: 'v20', platform: 'linux', arch: 'x64', retraceVersion: '0.1.0' },
  });
  let step = 0;
  while (events.length < n - 1) {
    const changed = opts.changes.has(step);
    const k = events.length % 4;
    if (k === 1) {
      push('llm_request', {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        method: 'POST',
        url: 'https://api.openai.com/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        stream: false,
        requestHash: HEX,
        occurrence: 0,
        body: {
          model: 'gpt-4o-mini',
          temperature: 0,
          messages: [
            { role: 'system', content: 'You are a careful agent.' },
            { role: 'user', content: `step ${step}` },
          ],
        },
      });
    } else if (k === 2) {
      push('llm_response', {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        status: 200,
        costUsd: 0.00002,
        latencyMs: 300 + opts.jitter,
        usage: { inputTokens: 40, outputTokens: 12 },
        finishReason: 'tool_calls',
        body: {
          id: `chatcmpl-${step}-${opts.jitter}`,
          created: 1767225600 + opts.jitter,
          choices: [{ index: 0, message: { role: 'assistant', content: `call search for ${step}` } }],
        },
      });
    } else if (k === 3) {
      push('tool_call', {
        tool: 'search',
        args: { query: changed ? `changed ${step}` : `query ${step}`, limit: 5 },
        argsHash: HEX.slice(0, 16),
        occurrence: 0,
      });
    } else {
      push('tool_response', {
        tool: 'search',
        result: { hits: [{ id: step, title: `result ${step}` }] },
        latencyMs: 20 + opts.jitter,
      });
      step++;
    }
  }
  push('agent_completed', {
    output: { done: true },
    totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: n * 7 },
  });
  return events;
}

function scattered(n: number, count: number): Set<number> {
  const steps = Math.floor(n / 4);
  return new Set(Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * steps) / count)));
}

function pairOf(n: number, changes: number): [StoredEvent[], StoredEvent[]] {
  return [
    makeTrace('a', n, { shiftMs: 0, jitter: 0, changes: new Set() }),
    makeTrace('b', n, { shiftMs: 3_600_000, jitter: 3, changes: scattered(n, changes) }),
  ];
}

/** The floor: serialize both sides of every pair once and compare. */
function baseline(a: readonly StoredEvent[], b: readonly StoredEvent[]): number {
  let differing = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) differing++;
  return differing;
}

async function median(runs: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)] as number;
}

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const perSize = new Map<number, number>();

  for (const n of [1_000, 10_000]) {
    const [a, b] = pairOf(n, 10);
    await diffTraces(a, b); // warm-up: JIT, module init
    const check = await diffTraces(a, b);
    if (check.differences.length !== 10)
      throw new Error(`bench: expected 10 differences at ${n}, got ${check.differences.length}`);
    const t = await median(5, () => diffTraces(a, b));
    const base = await median(5, () => baseline(a, b));
    perSize.set(n, t);
    rows.push({
      name: `diff ${n / 1000}k events, 10 scattered changes`,
      value: round(t),
      unit: 'ms',
      ...(n === 10_000 ? { target: '≤ 300 ms' } : {}),
      ratio: round(t / base, 2),
    });
  }

  {
    const n = 100_000;
    const [a, b] = pairOf(n, 10);
    await diffTraces(a, b); // warm-up at this size too
    const t = await median(3, async () => {
      const report = await diffTraces(a, b);
      if (report.differences.length !== 10)
        throw new Error(`bench: expected 10 differences at 100k, got ${report.differences.length}`);
    });
    const base = await median(3, () => baseline(a, b));
    perSize.set(n, t);
    rows.push({
      name: 'diff 100k events, 10 scattered changes',
      value: round(t),
      unit: 'ms',
      target: '≤ 3000 ms',
      ratio: round(t / base, 2),
    });
    rows.push(...(await streamed(a, b)));
  }

  const t1k = perSize.get(1_000) as number;
  const t100k = perSize.get(100_000) as number;
  rows.push({
    name: 'growth 1k → 100k (time ratio; 100 = linear)',
    value: round(t100k / t1k),
    unit: '×',
    ratio: round(t100k / t1k / 100, 2),
  });
  rows.push({ name: 'per 1k events at 100k', value: round(t100k / 100, 2), unit: 'ms' });
  return rows;
}

/**
 * Target 7 of issue 17: a diff of two streamed 100k-event traces (NDJSON files read line by line, the way `store.read`
 * delivers events) peaks ≤ 256 MB RSS for the whole process, in no more than 1.2× the time of the same diff done by
 * first reading both traces whole into arrays and diffing those — what the diff itself did before it streamed, and
 * the baseline measured in this run. Times are medians of 3, the two ways alternating. Peak RSS is measured in a
 * child process per way, so the inputs' construction garbage here does not hide it; an idle child gives the floor.
 */
async function streamed(a: readonly StoredEvent[], b: readonly StoredEvent[]): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-diff-bench-'));
  try {
    const fa = join(dir, 'a.ndjson');
    const fb = join(dir, 'b.ndjson');
    writeFileSync(fa, a.map((e) => JSON.stringify(e)).join('\n'));
    writeFileSync(fb, b.map((e) => JSON.stringify(e)).join('\n'));
    const stream = (): Promise<unknown> => checked(diffTraces(readNdjson(fa), readNdjson(fb)));
    const whole = async (): Promise<unknown> => checked(diffTraces(await collect(fa), await collect(fb)));
    await stream(); // warm-up
    const ts: number[] = [];
    const tw: number[] = [];
    for (let r = 0; r < 3; r++) {
      ts.push(await timed(stream));
      tw.push(await timed(whole));
    }
    const t = middle(ts);
    const base = middle(tw);
    const child = (mode: string): number => {
      const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), mode, fa, fb], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`bench memory child failed: ${r.stderr}`);
      return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { peakMb: number }).peakMb;
    };
    const peak = child('--memory-child');
    const peakWhole = child('--whole-child');
    const idle = child('--idle-child');
    return [
      {
        name: 'diff 100k streamed: time (ratio vs reading both whole into arrays, then diffing)',
        value: round(t),
        unit: 'ms',
        target: '≤ 1.2×',
        ratio: round(t / base, 2),
      },
      {
        name: 'diff 100k: peak RSS of a process diffing two streamed traces',
        value: peak,
        unit: 'MB',
        target: '≤ 256 MB',
      },
      { name: 'diff 100k: same, minus an idle process (node + tsx)', value: round(peak - idle), unit: 'MB' },
      {
        name: 'diff 100k: peak RSS reading both whole first (the baseline way)',
        value: peakWhole,
        unit: 'MB',
        ratio: round(peak / peakWhole, 2),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function middle(xs: number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
}

async function checked(report: Promise<DiffReport>): Promise<DiffReport> {
  const r = await report;
  if (r.differences.length !== 10) throw new Error(`bench: expected 10 differences, got ${r.differences.length}`);
  return r;
}

async function collect(path: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of readNdjson(path)) out.push(e);
  return out;
}

async function* readNdjson(path: string): AsyncGenerator<StoredEvent> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line) yield JSON.parse(line) as StoredEvent;
  }
}

async function memoryChild(mode: string, fa: string, fb: string): Promise<void> {
  if (mode === '--memory-child') await checked(diffTraces(readNdjson(fa), readNdjson(fb)));
  if (mode === '--whole-child') await checked(diffTraces(await collect(fa), await collect(fb)));
  console.log(JSON.stringify({ peakMb: round((process.resourceUsage().maxRSS * 1024) / (1024 * 1024)) }));
}

const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isMain && process.argv[2]?.endsWith('-child')) {
  await memoryChild(process.argv[2], process.argv[3] ?? '', process.argv[4] ?? '');
} else if (isMain) {
  printTable('diff', await run());
  console.log('\nratio: time ÷ one JSON.stringify equality pass over the same event pairs, measured in this run;');
  console.log('for the growth row, ratio = (t100k ÷ t1k) ÷ 100, so 1.00 means exactly linear;');
  console.log('for the streamed rows, ratio = streamed ÷ reading both traces whole into arrays first, same run.');
}
