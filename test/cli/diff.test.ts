import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DiffReportSchema } from '../../src/diff/report-schema.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/** `retrace diff`: the verdict decides the exit code (0 identical/equivalent, 1 diverged); every format renders. */
const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };
const run = (args: unknown) =>
  new TraceBuilder('support').llm('gpt-4o-mini', 'where is my order?').tool('lookup', args).complete().events;

beforeAll(async () => {
  await Promise.all([
    ensureBuilt(),
    // same content, fresh event ids and timestamps: identical under the default policy
    seed(tmp.url, { recorded: run({ id: 42 }), again: run({ id: 42 }), drifted: run({ id: 43 }) }),
  ]);
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace diff', () => {
  it('identical runs: exit 0, Markdown by default', async () => {
    const r = await retrace(['diff', 'recorded', 'again'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('retrace diff: runs identical');
  });

  it('diverged runs: exit 1, the first divergence named', async () => {
    const r = await retrace(['diff', 'recorded', 'drifted'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('retrace diff: runs diverged');
    expect(r.stdout).toContain('tool-argument drift');
  });

  it('--json prints the versioned report', async () => {
    const r = await retrace(['diff', 'recorded', 'drifted', '--json'], env);
    expect(r.code).toBe(1);
    const report = DiffReportSchema.parse(JSON.parse(r.stdout));
    expect(report.verdict).toBe('diverged');
    expect(report.firstDivergence?.class).toBe('tool-argument-drift');
    expect([report.a.traceId, report.b.traceId]).toEqual(['recorded', 'drifted']);
  });

  it('--format junit/html --out writes the report and prints the verdict', async () => {
    const junit = join(tmp.dir, 'reports', 'junit.xml');
    const r = await retrace(['diff', 'recorded', 'drifted', '--format', 'junit', '--out', junit], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`report: ${junit}`);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite[^>]*failures="1"/);

    const html = join(tmp.dir, 'reports', 'diff.html');
    const h = await retrace(['diff', 'recorded', 'again', '--format', 'html', '--out', html, '--json'], env);
    expect(h.code).toBe(0);
    expect(
      z.object({ verdict: z.literal('identical'), out: z.literal(html) }).safeParse(JSON.parse(h.stdout)).success,
    ).toBe(true);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('--policy can make a difference ignorable: equivalent, exit 0', async () => {
    const policy = join(tmp.dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ types: { tool_call: { ignorePaths: ['payload.args'] } } }));
    const r = await retrace(['diff', 'recorded', 'drifted', '--policy', policy, '--format', 'json'], env);
    expect(r.code).toBe(0);
    expect(DiffReportSchema.parse(JSON.parse(r.stdout)).verdict).toBe('equivalent');
  });

  it.each([
    [['diff', 'recorded', 'nope'], 'No trace "nope" for tenant "default".'],
    [['diff', '../../etc/passwd', 'recorded'], 'Invalid trace id "../../etc/passwd"'],
    [['diff', 'recorded', 'again', '--format', 'pdf'], 'Invalid value for --format'],
    [['diff', 'recorded'], "missing required argument 'traceB'"],
    [['diff', 'recorded', 'again', '--policy', '/nonexistent/policy.json'], 'Cannot read the diff policy file'],
  ])('bad input %j: exit 2', async (args, message) => {
    const r = await retrace(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
