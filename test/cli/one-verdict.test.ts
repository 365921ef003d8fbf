import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../fixtures/agents/context.js';
import { supportAgent } from '../../fixtures/agents/support-agent.js';
import { startLlmStub } from '../../fixtures/llm-stub/index.js';
import { CiResultSchema } from '../../replay-cli/ci/report.js';
import { DiffReportSchema } from '../../src/diff/report-schema.js';
import { createRecorder } from '../../src/recorder/index.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace as retraceCli, tempStore } from './cli-harness.js';

/**
 * One verdict: for the same trace and agent, `retrace replay` (text), `retrace replay --json`, the `--report` file
 * and `retrace ci`'s JUnit all say the same thing, because they render one comparison (src/replay/comparison.ts).
 * The trace is real: the support agent recorded against the LLM stub, replayed by the built CLI with the stub gone.
 * The unchanged agent must replay `identical` as the README defines it; the prompt-changed copy must diverge, with
 * the same first divergence in every output.
 */

const V1 = 'fixtures/agents/support-agent.ts#supportAgent';
const V2 = 'fixtures/agents/support-agent-v2.ts#supportAgent';

/** generous: on a loaded CI machine a TypeScript agent's sandbox can take long to start; timing is not asserted */
const SANDBOX_TIMEOUT = '300s';
const st = tempStore('verdict.db');
let traceId = '';
const golden = join(st.dir, 'goldens', 'support.ndjson');

const retrace = (args: readonly string[]) =>
  retraceCli(args, { GITHUB_STEP_SUMMARY: undefined, RETRACE_STORE: st.url, RETRACE_TENANT: undefined });

async function recordOne(): Promise<void> {
  const stub = await startLlmStub();
  const saved = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
  process.env.OPENAI_BASE_URL = stub.openaiBaseUrl;
  process.env.OPENAI_API_KEY = 'sk-test-0000000000000000000000000000';
  const recorder = createRecorder({ store: st.url, tenant: 'default' });
  try {
    const input = { customerId: 'C-9', question: 'Where is my order? call lookup_order({"orderId":"A-1002"})' };
    const run = await recorder.run({ agent: 'support-agent', entry: V1, input }, (ctx) =>
      supportAgent(input, ctx as unknown as AgentContext),
    );
    traceId = run.traceId;
  } finally {
    await recorder.close();
    await stub.close();
    process.env.OPENAI_BASE_URL = saved.base;
    process.env.OPENAI_API_KEY = saved.key;
  }
}

beforeAll(async () => {
  await Promise.all([ensureBuilt(), recordOne()]);
  const r = await retrace(['export', traceId, '--out', golden]);
  if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
}, BUILD_TIMEOUT_MS);
afterAll(() => st.cleanup());

interface Outputs {
  textVerdict: string;
  textFirst: string | null;
  textOutcome: string | null;
  json: { verdict: string; firstDivergence: { message: string; class: string } | null };
  report: ReturnType<typeof DiffReportSchema.parse>;
  junitFailure: string | null;
  ciVerdict: string;
  ciFirst: string | null;
}

async function allOutputs(agent: string, tag: string): Promise<Outputs> {
  const reportPath = join(st.dir, `${tag}.report.json`);
  const junitPath = join(st.dir, `${tag}.junit.xml`);
  const [text, json, ci] = await Promise.all([
    retrace(['replay', traceId, '--agent', agent, '--fast', '--timeout', SANDBOX_TIMEOUT]),
    retrace([
      'replay',
      traceId,
      '--agent',
      agent,
      '--fast',
      '--timeout',
      SANDBOX_TIMEOUT,
      '--json',
      '--report',
      reportPath,
      '--format',
      'json',
    ]),
    retrace(['ci', golden, '--agent', agent, '--fast', '--timeout', SANDBOX_TIMEOUT, '--junit', junitPath, '--json']),
  ]);
  for (const r of [text, json]) expect(r.stderr).not.toContain('error:');
  expect(ci.stderr).not.toContain('error:');
  const ciResult = CiResultSchema.parse(JSON.parse(ci.stdout));
  const xml = readFileSync(junitPath, 'utf8');
  const failure = /<failure message="([^"]*)"/.exec(xml)?.[1] ?? null;
  return {
    textVerdict: /^verdict\s+(\S+)/m.exec(text.stdout)?.[1] ?? '(none)',
    textFirst: /^first divergence: (.*)$/m.exec(text.stdout)?.[1] ?? null,
    textOutcome: /^outcome\s+(.*)$/m.exec(text.stdout)?.[1] ?? null,
    json: JSON.parse(json.stdout) as Outputs['json'],
    report: DiffReportSchema.parse(JSON.parse(readFileSync(reportPath, 'utf8'))),
    junitFailure:
      failure === null
        ? null
        : failure
            .replace(/&quot;/g, '"')
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&amp;/g, '&'),
    ciVerdict: ciResult.traces[0]?.verdict ?? '(none)',
    ciFirst: ciResult.traces[0]?.firstDivergence ?? null,
  };
}

describe('one verdict across replay, replay --json, the --report file and ci JUnit', () => {
  it('an unchanged agent replays identical in all four outputs', { timeout: 900_000 }, async () => {
    const o = await allOutputs(V1, 'same');
    expect(o.json.verdict).toBe('identical');
    expect(o.textVerdict).toBe('identical');
    expect(o.report.verdict).toBe('identical');
    expect(o.ciVerdict).toBe('identical');
    expect(o.json.firstDivergence).toBeNull();
    expect(o.report.firstDivergence).toBeNull();
    expect(o.textFirst).toBeNull();
    expect(o.junitFailure).toBeNull();
    expect(o.ciFirst).toBeNull();
  });

  it('a prompt-changed copy diverges with the same first divergence everywhere', { timeout: 900_000 }, async () => {
    const o = await allOutputs(V2, 'changed');
    expect(o.json.verdict).toBe('diverged');
    expect(o.textVerdict).toBe('diverged');
    expect(o.report.verdict).toBe('diverged');
    expect(o.ciVerdict).toBe('diverged');
    const sentence = o.report.firstDivergence?.sentence;
    expect(sentence).toBeTruthy();
    expect(o.json.firstDivergence?.message).toBe(sentence);
    expect(o.json.firstDivergence?.class).toBe(o.report.firstDivergence?.class);
    expect(o.textFirst).toBe(sentence);
    expect(o.ciFirst).toBe(sentence);
    expect(o.junitFailure).toBe(sentence);
    // the changed prompt is a request the recording cannot answer: the outcome and the finding say so
    expect(o.textOutcome).toMatch(/^failed: request not in the recording/);
    expect(sentence).toMatch(/^request not in the recording \(prompt drift\): /);
  });
});
