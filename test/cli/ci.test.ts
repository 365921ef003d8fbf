import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../fixtures/agents/context.js';
import { supportAgent } from '../../fixtures/agents/support-agent.js';
import { supportAgent as supportAgentV2 } from '../../fixtures/agents/support-agent-v2.js';
import { startLlmStub } from '../../fixtures/llm-stub/index.js';
import { parseShard } from '../../replay-cli/ci/shard.js';
import { expandGlob, findGoldenFiles, selectShard } from '../../src/transfer/goldens.js';
import { CiResultSchema } from '../../replay-cli/ci/report.js';
import { createRecorder } from '../../src/recorder/index.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace as retraceCli, tempStore } from './cli-harness.js';

/**
 * `retrace ci` end to end through the built binary. The golden traces are real: the support agent (and its
 * prompt-changed v2 copy) recorded against the LLM stub with createRecorder, then written to NDJSON files with the
 * built CLI's `export`. Replays are the expensive part (~1–2 s each for a TypeScript agent), so every replay run uses
 * --fast --concurrency 2 and the runs share one CI store.
 */

const V1 = 'fixtures/agents/support-agent.ts#supportAgent';
const V2 = 'fixtures/agents/support-agent-v2.ts#supportAgent';

const rec = tempStore('recorded.db');
const ci = tempStore('ci.db');
const dir = rec.dir;
/** v1 goldens: a.ndjson (trace A) and bc.ndjson (traces B and C in one file) */
const passDir = join(dir, 'goldens-v1');
/** v2 goldens D, E recorded with the v2 copy, plus A (recorded with v1): against --agent v2 only A diverges */
const mixedDir = join(dir, 'goldens-mixed');
const ids: Record<'A' | 'B' | 'C' | 'D' | 'E', string> = { A: '', B: '', C: '', D: '', E: '' };

/** never inherit the job summary of a CI run of this suite: only the test that sets it gets one */
const retrace = (args: readonly string[], env: Record<string, string | undefined> = {}) =>
  retraceCli(args, { GITHUB_STEP_SUMMARY: undefined, ...env });
const parseJson = (stdout: string) => CiResultSchema.parse(JSON.parse(stdout));
const junitCases = (xml: string) =>
  [...xml.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/testcase>/g)].map((m) => ({
    name: m[1]!,
    body: m[2]!,
  }));

async function recordGoldens(): Promise<void> {
  const stub = await startLlmStub();
  const saved = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
  process.env.OPENAI_BASE_URL = stub.openaiBaseUrl;
  process.env.OPENAI_API_KEY = 'sk-test-0000000000000000000000000000';
  const recorder = createRecorder({ store: rec.url, tenant: 'default' });
  try {
    const runs: Array<[keyof typeof ids, string, string, typeof supportAgent]> = [
      ['A', V1, 'C-1', supportAgent],
      ['B', V1, 'C-2', supportAgent],
      ['C', V1, 'C-3', supportAgent],
      ['D', V2, 'C-4', supportAgentV2],
      ['E', V2, 'C-5', supportAgentV2],
    ];
    for (const [name, entry, customerId, agent] of runs) {
      const input = {
        customerId,
        question: `Where is my order? call lookup_order({"orderId":"A-100${(Number(customerId.slice(2)) % 3) + 1}"})`,
      };
      const { traceId } = await recorder.run({ agent: 'support-agent', entry, input }, (ctx) =>
        agent(input, ctx as unknown as AgentContext),
      );
      ids[name] = traceId;
    }
  } finally {
    await recorder.close();
    await stub.close();
    process.env.OPENAI_BASE_URL = saved.base;
    process.env.OPENAI_API_KEY = saved.key;
  }
}

async function exportTo(traceId: string, file: string): Promise<void> {
  const r = await retrace(['export', traceId, '--out', file], { RETRACE_STORE: rec.url });
  if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
}

beforeAll(async () => {
  await Promise.all([ensureBuilt(), recordGoldens()]);
  mkdirSync(passDir, { recursive: true });
  mkdirSync(mixedDir, { recursive: true });
  await Promise.all([
    exportTo(ids.A, join(passDir, 'a.ndjson')),
    exportTo(ids.B, join(dir, 'b.part')),
    exportTo(ids.C, join(dir, 'c.part')),
    exportTo(ids.D, join(mixedDir, 'd.ndjson')),
    exportTo(ids.E, join(mixedDir, 'e.ndjson')),
  ]);
  writeFileSync(
    join(passDir, 'bc.ndjson'),
    readFileSync(join(dir, 'b.part'), 'utf8') + readFileSync(join(dir, 'c.part'), 'utf8'),
  );
  cpSync(join(passDir, 'a.ndjson'), join(mixedDir, 'a.ndjson'));
}, BUILD_TIMEOUT_MS);
afterAll(() => {
  rec.cleanup();
  ci.cleanup();
});

describe('retrace ci over real golden traces', () => {
  it('passes when every golden replays identical or equivalent: exit 0, three passing JUnit testcases, a summary', async () => {
    const junit = join(dir, 'out', 'pass.xml');
    const summary = join(dir, 'out', 'pass.md');
    const r = await retrace(
      ['ci', passDir, '--agent', V1, '--junit', junit, '--summary', summary, '--fast', '--concurrency', '2', '--json'],
      { RETRACE_STORE: ci.url },
    );
    expect(r.stderr).not.toContain('error:');
    expect(r.code).toBe(0);
    const result = parseJson(r.stdout);
    expect(result.status).toBe('passed');
    expect(result.traces.map((t) => t.traceId)).toEqual([ids.A, ids.B, ids.C].sort());
    expect(result.traces.every((t) => t.verdict === 'identical' || t.verdict === 'equivalent')).toBe(true);
    expect(result).toMatchObject({ imported: 3, alreadyPresent: 0, goldenTraces: 3, agent: V1, shard: null });
    // files outside the cwd are shown absolute (inside it, relative to it)
    expect(result.files).toEqual([join(passDir, 'a.ndjson'), join(passDir, 'bc.ndjson')]);

    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="retrace ci" tests="3" failures="0" errors="0"/);
    const cases = junitCases(xml);
    expect(cases.map((c) => c.name).sort()).toEqual([ids.A, ids.B, ids.C].sort());
    for (const c of cases) expect(c.body).not.toMatch(/<failure|<error/);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('## ✅ retrace ci: all 3 golden traces passed');
    expect(md).toContain('| Trace | Verdict | First divergence | Report |');
    expect(md.match(/^\| `tr_/gm)).toHaveLength(3);
  });

  it('fails with exit 1 when exactly one golden diverges; JUnit marks that one; the summary is appended to GITHUB_STEP_SUMMARY', async () => {
    const junit = join(dir, 'out', 'mixed.xml');
    const stepSummary = join(dir, 'out', 'step-summary.md');
    const reports = join(dir, 'out', 'reports');
    writeFileSync(stepSummary, '# an earlier step\n\n');
    const r = await retrace(
      [
        'ci',
        join(mixedDir, '*.ndjson'),
        '--agent',
        V2,
        '--junit',
        junit,
        '--report-dir',
        reports,
        '--fast',
        '--concurrency',
        '2',
      ],
      { RETRACE_STORE: ci.url, GITHUB_STEP_SUMMARY: stepSummary },
    );
    expect(r.code).toBe(1);
    // plain progress lines (stderr is a pipe here), one per trace
    expect(r.stderr.match(/^\[\d\/3\] tr_\S+ (identical|equivalent|diverged)/gm)).toHaveLength(3);
    expect(r.stderr).toContain('2 imported, 1 already present'); // A came in with the first run: importing is idempotent
    expect(r.stdout).toContain(`✗ ${ids.A}  diverged`);
    expect(r.stdout).toContain('retrace ci: 1 diverged of 3 golden traces');

    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/tests="3" failures="1" errors="0"/);
    const cases = junitCases(xml);
    expect(cases).toHaveLength(3);
    const failed = cases.filter((c) => c.body.includes('<failure'));
    expect(failed.map((c) => c.name)).toEqual([ids.A]);
    expect(failed[0]!.body).toMatch(/<failure message="[^"]*prompt[^"]*" type="diverged">/);

    const md = readFileSync(stepSummary, 'utf8');
    expect(md.startsWith('# an earlier step\n\n## ❌ retrace ci: 1 diverged of 3 golden traces')).toBe(true);
    const row = md.split('\n').find((l) => l.includes(ids.A));
    expect(row).toContain('❌ diverged');
    expect(row).toContain(`${ids.A}.md`);
    expect(existsSync(join(reports, `${ids.A}.md`))).toBe(true);
    expect(md.split('\n').filter((l) => l.includes('✅ equivalent') || l.includes('✅ identical'))).toHaveLength(2);
  });

  it('a replay that cannot run (the sandbox crashes) is a JUnit <error> and exit 1', async () => {
    const junit = join(dir, 'out', 'crash.xml');
    const r = await retrace(
      [
        'ci',
        join(passDir, 'a.ndjson'),
        '--agent',
        'test/replay/agents/hostile.ts#crash',
        '--junit',
        junit,
        '--fast',
        '--json',
      ],
      { RETRACE_STORE: ci.url },
    );
    expect(r.code).toBe(1);
    const result = parseJson(r.stdout);
    expect(result.counts).toEqual({ identical: 0, equivalent: 0, diverged: 0, error: 1 });
    expect(result.traces[0]!.error?.code).toBe('SANDBOX_CRASHED');
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/tests="1" failures="0" errors="1"/);
    expect(xml).toMatch(/<error message="[^"]*" type="SANDBOX_CRASHED">/);
  });

  it('shards split the goldens with no overlap and no gap; a sharded run replays exactly its share', async () => {
    const all = [ids.A, ids.B, ids.C, ids.D, ids.E].sort();
    for (const n of [3, 7]) {
      // uneven shares, and more shards than traces (empty shards)
      const shares: string[][] = [];
      for (let i = 1; i <= n; i++) {
        const r = await retrace(['ci', passDir, mixedDir, '--shard', `${i}/${n}`, '--dry-run', '--json'], {
          RETRACE_STORE: join(dir, 'never-created.db'),
        });
        expect(r.code).toBe(0);
        const listed = JSON.parse(r.stdout) as { goldenTraces: number; traces: Array<{ traceId: string }> };
        expect(listed.goldenTraces).toBe(5); // A is in both folders, the same events: counted once
        shares.push(listed.traces.map((t) => t.traceId));
      }
      expect(shares.flat().sort()).toEqual(all);
      expect(new Set(shares.flat()).size).toBe(all.length);
      const sizes = shares.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(existsSync(join(dir, 'never-created.db'))).toBe(false);

    // the documented rule: sorted ids, trace k → shard (k mod N) + 1; shard 2/3 of the v1 goldens is the middle id
    const r = await retrace(['ci', passDir, '--shard', '2/3', '--agent', V1, '--fast', '--json'], {
      RETRACE_STORE: ci.url,
    });
    expect(r.code).toBe(0);
    const result = parseJson(r.stdout);
    expect(result.shard).toEqual({ index: 2, count: 3 });
    expect(result.traces.map((t) => t.traceId)).toEqual([[ids.A, ids.B, ids.C].sort()[1]]);
    expect(result.goldenTraces).toBe(3);
  });
});

describe('retrace ci input errors (exit 2, nothing imported or replayed)', () => {
  it('a malformed golden file: exit 2 naming the file and line, the store never opened', async () => {
    const bad = join(dir, 'goldens-bad');
    mkdirSync(bad, { recursive: true });
    cpSync(join(passDir, 'a.ndjson'), join(bad, 'a.ndjson'));
    const lines = readFileSync(join(passDir, 'bc.ndjson'), 'utf8').split('\n');
    lines[2] = lines[2]!.slice(0, 40); // line 3 cut short: not JSON any more
    writeFileSync(join(bad, 'b.ndjson'), lines.join('\n'));
    const store = join(dir, 'bad.db');
    const r = await retrace(['ci', bad, '--agent', V1], { RETRACE_STORE: `sqlite:${store}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/b\.ndjson line 3: not valid JSON/);
    expect(r.stderr).toContain('Nothing was imported.');
    expect(r.stderr).not.toMatch(/\[\d+\/\d+\]/);
    expect(existsSync(store)).toBe(false);
  });

  it.each([
    [['ci', 'test/.does-not-exist/*.ndjson'], 'No golden trace files match "test/.does-not-exist/*.ndjson"'],
    [['ci', 'fixtures/agents/*.ndjson'], 'No golden trace files match'],
    [['ci', 'no/such/folder'], 'No such file or folder: no/such/folder'],
    [['ci', 'fixtures/agents'], 'The folder fixtures/agents holds no *.ndjson files'],
    [['ci', 'fixtures', '--shard', '3/2'], 'Invalid value for --shard: "3/2"'],
    [['ci', 'fixtures', '--shard', 'half'], 'Invalid value for --shard'],
    [['ci', 'fixtures', '--concurrency', '9'], 'Invalid value for --concurrency: must be at most 8'],
    [['ci', 'fixtures', '--on-miss', 'sometimes'], 'Invalid value for --on-miss'],
    [['ci', 'fixtures', '--agent', 'src/nope.ts#agent'], 'The agent module src/nope.ts'],
    [['ci'], "missing required argument 'paths'"],
  ])('%j → exit 2', async (args, message) => {
    const store = join(dir, 'input-errors.db');
    const r = await retrace(args, { RETRACE_STORE: `sqlite:${store}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('→');
    expect(existsSync(store)).toBe(false);
  });

  it('is listed in --help with examples', async () => {
    const top = await retrace(['--help']);
    expect(top.stdout).toContain('ci [options] <paths...>');
    const help = await retrace(['ci', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--shard <I/N>');
    expect(help.stdout).toContain('trace k belongs to');
    expect(help.stdout).toContain('$ retrace ci goldens/');
  });
});

describe('golden paths and shards (in process)', () => {
  it('expands the documented glob subset', () => {
    const base = join(dir, 'globs');
    for (const f of [
      'x/a.ndjson',
      'x/b.ndjson',
      'x/c.txt',
      'x/.hidden.ndjson',
      'x/sub/d.ndjson',
      'x/sub/deeper/e.ndjson',
    ]) {
      mkdirSync(join(base, f, '..'), { recursive: true });
      writeFileSync(join(base, f), '');
    }
    const rel = (files: string[]) => files.map((f) => relative(base, f).replace(/\\/g, '/')).sort();
    expect(rel(expandGlob('x/*.ndjson', base))).toEqual(['x/a.ndjson', 'x/b.ndjson']);
    expect(rel(expandGlob('x/?.ndjson', base))).toEqual(['x/a.ndjson', 'x/b.ndjson']);
    expect(rel(expandGlob('x/**/*.ndjson', base))).toEqual([
      'x/a.ndjson',
      'x/b.ndjson',
      'x/sub/d.ndjson',
      'x/sub/deeper/e.ndjson',
    ]);
    expect(rel(expandGlob('x/.*.ndjson', base))).toEqual(['x/.hidden.ndjson']);
    expect(rel(expandGlob('*/sub/*.ndjson', base))).toEqual(['x/sub/d.ndjson']);
    expect(rel(expandGlob(`${base}/x/*.txt`, '/'))).toEqual(['x/c.txt']);
    // a folder: its *.ndjson files, not recursive; overlapping paths count once, sorted
    expect(rel(findGoldenFiles(['x', 'x/a.ndjson', 'x/*.ndjson'], base))).toEqual(['x/a.ndjson', 'x/b.ndjson']);
  });

  it('shard I/N: sorted index mod N, every id in exactly one shard', () => {
    const ids = Array.from({ length: 23 }, (_, i) => ({ traceId: `tr_${(i * 7919).toString(36)}` })).sort((a, b) =>
      a.traceId < b.traceId ? -1 : 1,
    );
    for (let n = 1; n <= 6; n++) {
      const shares = Array.from({ length: n }, (_, i) =>
        selectShard(ids, parseShard(`${i + 1}/${n}`)).map((t) => t.traceId),
      );
      expect(shares.flat().sort()).toEqual(ids.map((t) => t.traceId));
      expect(new Set(shares.flat()).size).toBe(ids.length);
    }
    expect(selectShard(ids, parseShard('2/3'))[0]).toBe(ids[1]);
    expect(() => parseShard('0/2')).toThrow(/1 ≤ I ≤ N/);
  });
});
