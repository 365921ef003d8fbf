/**
 * `npm run demo`: the whole loop on one laptop, no server, no API key, no LLM cost.
 *   1. start the bundled OpenAI-compatible LLM stub and record the example support agent (real `openai` SDK) into the
 *      embedded store .retrace/demo.db;
 *   2. stop the stub — everything after this is offline;
 *   3. `retrace replay <traceId>`: re-run the agent's own code in the sandbox against the recording → identical;
 *   4. `retrace replay <traceId> --agent fixtures/agents/support-agent-v2.ts#supportAgent`: the same trace against a
 *      copy with a changed system prompt → diverged, stopped at that LLM request;
 * then prints both verdicts, the report paths and the `retrace ui` command that opens the runs in the inspector. Steps 3–4 run the built `retrace` binary, as a user would.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { AgentContext } from '../fixtures/agents/context.js';
import { supportAgent } from '../fixtures/agents/support-agent.js';
import { startLlmStub } from '../fixtures/llm-stub/index.js';
import { createRecorder } from '../src/recorder/index.js';

const root = resolve(import.meta.dirname, '..');
const storeUrl = `sqlite:${join('.retrace', 'demo.db')}`;
const reports = join('.retrace', 'reports');
const tenant = 'demo';
process.chdir(root);
mkdirSync(reports, { recursive: true });

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n: number, text: string) => console.log(`\n${bold(`${n}. ${text}`)}`);

function retrace(args: string[]): { code: number; stdout: string; stderr: string } {
  const shown = ['retrace', ...args].map((a) => (/[\s#]/.test(a) ? `'${a}'` : a)).join(' ');
  console.log(`   $ ${shown}`);
  const r = spawnSync(
    process.execPath,
    [join(root, 'bin', 'retrace.js'), '--store', storeUrl, '--tenant', tenant, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    },
  );
  const out = `${r.stdout}${r.stderr}`.trimEnd();
  if (out) console.log(out.replace(/^/gm, '   │ '));
  return { code: r.status ?? 3, stdout: r.stdout, stderr: r.stderr };
}

step(1, 'Record the example support agent against the bundled LLM stub');
const stub = await startLlmStub();
process.env.OPENAI_BASE_URL = stub.openaiBaseUrl;
// a key of the real shape: the recorder redacts it, so it never reaches the store
process.env.OPENAI_API_KEY = 'sk-proj-demoDEMOdemoDEMOdemoDEMOdemoDEMOdemo1234';
const recorder = createRecorder({ store: storeUrl, tenant });
const input = {
  customerId: 'C-42',
  // the stub turns `call tool(args)` into tool calls, and `then` into a second round
  question:
    'My order A-1001 arrived broken. call lookup_order({"orderId":"A-1001"}) then call refund_order({"orderId":"A-1001","reason":"arrived broken"})',
};
const { output, traceId } = await recorder.run(
  { agent: 'support-agent', entry: 'fixtures/agents/support-agent.ts#supportAgent', input },
  // the example agents type ctx.tool loosely so they run without retrace; the recorder's ctx is compatible at run time
  (ctx) => supportAgent(input, ctx as unknown as AgentContext),
);
await recorder.close();
await stub.close();
console.log(`   recorded trace ${bold(traceId)} → ${storeUrl}`);
console.log(`   the agent answered: ${JSON.stringify(output.answer).slice(0, 140)}`);

step(2, 'The LLM stub is stopped: from here on nothing can reach a model');
retrace(['show', traceId]);

step(3, 'Replay the recording against the same agent code');
const sameReport = join(reports, 'replay-same.md');
const same = retrace(['replay', traceId, '--fast', '--report', sameReport, '--format', 'md']);

step(4, 'Replay it against a copy of the agent with a changed system prompt');
const changedReport = join(reports, 'replay-changed.html');
const changed = retrace([
  'replay',
  traceId,
  '--fast',
  '--agent',
  'fixtures/agents/support-agent-v2.ts#supportAgent',
  '--report',
  changedReport,
  '--format',
  'html',
  '--fail-on-diff',
]);

const verdictOf = (text: string) => /\b(identical|equivalent|diverged)\b/.exec(text)?.[1] ?? 'unknown';
console.log(`\n${bold('Summary')}`);
console.log(
  `   same code:     ${verdictOf(same.stdout + same.stderr)} (exit ${same.code})  report: ${relative(root, sameReport)}`,
);
console.log(
  `   changed prompt: ${verdictOf(changed.stdout + changed.stderr)} (exit ${changed.code})  report: ${relative(root, changedReport)}`,
);
console.log(`   store: ${storeUrl} (try: node bin/retrace.js --store ${storeUrl} --tenant ${tenant} list)`);
console.log(`\n${bold('Look at the runs, replay any step, fork with an edit:')}`);
console.log(`   node bin/retrace.js --store ${storeUrl} --tenant ${tenant} ui --open`);

const ok =
  same.code === 0 &&
  verdictOf(same.stdout + same.stderr) !== 'diverged' &&
  changed.code === 1 &&
  verdictOf(changed.stdout + changed.stderr) === 'diverged';
if (!ok) {
  console.error('\nThe demo did not end as expected (same code: identical/equivalent, changed prompt: diverged).');
  process.exitCode = 1;
}
