import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { scriptAgentPath } from '../../fixtures/agents/index.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * Zero-code mode: `node --import ./src/recorder/register.ts script.mjs` (in the package: `--import agent-retrace/register`)
 * records the whole process as one trace: agent_started (mode process, argv, allow-listed env), the LLM/HTTP calls, and
 * agent_completed ({ exitCode, stdout }) or agent_failed (non-zero exit, uncaught error).
 */
const REGISTER = new URL('../../src/recorder/register.ts', import.meta.url).pathname;
const COUNT_APPENDS = new URL('./children/count-main-thread-appends.ts', import.meta.url).pathname;
let stub: LlmStub;
let t: ReturnType<typeof tempStore>;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 2 });
  t = tempStore();
});
afterAll(async () => {
  await stub.close();
  await t.cleanup();
});

function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  preload: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const imports = [...preload, REGISTER].flatMap((p) => ['--import', p]);
    const proc = spawn(process.execPath, ['--import', 'tsx', ...imports, script, ...args], {
      env: { PATH: process.env.PATH ?? '', RETRACE_STORE: `sqlite:${t.path}`, RETRACE_TENANT: 'zero', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the script agent, unchanged, recorded as one trace with a preset trace id', async () => {
  const key = 'sk-proj-ZeroCodeKey0123456789abcdefghijklmnop';
  const r = await runScript(scriptAgentPath, ['What is the capital of France?'], {
    OPENAI_BASE_URL: stub.openaiBaseUrl,
    OPENAI_API_KEY: key,
    RETRACE_AGENT: 'script-agent',
    RETRACE_TRACE_ID: 'tr_zero_code_1',
    RETRACE_ENV_ALLOW: 'MY_FLAG,MY_TOKEN',
    MY_FLAG: 'on',
    MY_TOKEN: 'should-not-be-recorded',
    NODE_ENV: 'test',
  });
  // the agent's own stderr is empty: the one line is the recorder's, naming the trace to replay
  expect(r.stderr).toMatch(/^retrace: recorded trace tr_zero_code_1 \(\d+ events\) → retrace replay tr_zero_code_1\n$/);
  expect(r.code).toBe(0);
  const events = await readTrace(t.store, 'zero', 'tr_zero_code_1');
  expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_completed']);
  const started = events[0] as StoredEventOf<'agent_started'>;
  expect(started.payload).toMatchObject({
    agent: 'script-agent',
    mode: 'process',
    input: { argv: ['What is the capital of France?'] },
  });
  expect(started.payload.entry).toBeUndefined();
  // the entry is recorded relative to the project root (the repository here), so the trace replays on another checkout
  expect(started.payload.environment.argv).toEqual([
    'fixtures/agents/script-agent.mjs',
    'What is the capital of France?',
  ]);
  // allow-listed env only: no API key, no *_TOKEN even when listed, no PATH
  expect(started.payload.environment.env).toEqual({
    NODE_ENV: 'test',
    OPENAI_BASE_URL: stub.openaiBaseUrl,
    RETRACE_STORE: `sqlite:${t.path}`,
    RETRACE_TENANT: 'zero',
    RETRACE_AGENT: 'script-agent',
    // RETRACE_TRACE_ID is consumed by the recorder (a child process must not reuse the id)
    RETRACE_ENV_ALLOW: 'MY_FLAG,MY_TOKEN',
    MY_FLAG: 'on',
  });
  // OPENAI_BASE_URL makes the stub an LLM endpoint for the recorder too
  const req = events.find((e) => e.type === 'llm_request') as StoredEventOf<'llm_request'>;
  expect(req.payload).toMatchObject({
    provider: 'openai-compatible',
    operation: 'chat.completions',
    model: 'gpt-4o-mini',
  });
  expect(JSON.stringify(events)).not.toContain(key);
  const done = events.at(-1) as StoredEventOf<'agent_completed'>;
  expect(done.payload.output).toEqual({ exitCode: 0, stdout: r.stdout });
  expect(done.payload.totals.llmCalls).toBe(1);
  expect(await t.store.summary('zero', 'tr_zero_code_1')).toMatchObject({ status: 'completed', agent: 'script-agent' });
});

test('a non-zero exit ends the trace with agent_failed', async () => {
  const r = await runScript(scriptAgentPath, ['fail please [[fail:500]]'], {
    OPENAI_BASE_URL: stub.openaiBaseUrl,
    RETRACE_TRACE_ID: 'tr_zero_code_2',
  });
  expect(r.code).toBe(1);
  const events = await readTrace(t.store, 'zero', 'tr_zero_code_2');
  expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_failed']);
  expect((events[0] as StoredEventOf<'agent_started'>).payload.agent).toBe('script-agent.mjs');
  const response = events.find((e) => e.type === 'llm_response') as StoredEventOf<'llm_response'>;
  expect(response.payload.status).toBe(500);
  const failed = events.at(-1) as StoredEventOf<'agent_failed'>;
  expect(failed.payload.error).toMatchObject({ name: 'NonZeroExit', code: '1' });
});

test('an uncaught exception ends the trace with that error; fetch outside any agent code is still recorded', async () => {
  const script = join(t.dir, 'crash.mjs');
  writeFileSync(
    script,
    `await fetch(${JSON.stringify(`${stub.url}/health`)}).then((r) => r.text());\nconsole.log('about to fail');\nthrow new TypeError('bad thing happened');\n`,
  );
  const r = await runScript(script, [], { RETRACE_TRACE_ID: 'tr_zero_code_3' });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('bad thing happened');
  const events = await readTrace(t.store, 'zero', 'tr_zero_code_3');
  expect(typesOf(events)).toEqual(['agent_started', 'http_request', 'http_response', 'agent_failed']);
  const failed = events.at(-1) as StoredEventOf<'agent_failed'>;
  expect(failed.payload.error).toMatchObject({ name: 'TypeError', message: 'bad thing happened' });
});

test('the embedded store is written from the worker thread: no append on the agent thread', async () => {
  const r = await runScript(
    scriptAgentPath,
    ['What is the capital of Italy?'],
    { OPENAI_BASE_URL: stub.openaiBaseUrl, RETRACE_TRACE_ID: 'tr_zero_code_4' },
    [COUNT_APPENDS],
  );
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('MAIN_THREAD_APPENDS 0\n');
  const events = await readTrace(t.store, 'zero', 'tr_zero_code_4');
  expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_completed']);
});
