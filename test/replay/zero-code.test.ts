import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { scriptAgentPath } from '../../fixtures/agents/index.js';
import { replayTrace } from '../../src/replay/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';
import { readAll, shape, tempStore } from './helpers.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const TENANT = 'zero';

let stub: LlmStub;
let st: Awaited<ReturnType<typeof tempStore>>;

beforeAll(async () => {
  stub = await startLlmStub();
  st = await tempStore();
  await st.store.close();
});
afterAll(async () => {
  await stub.close();
  rmSync(st.dir, { recursive: true, force: true });
});

async function recordScript(traceId: string, question: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--import', './src/recorder/register.ts', scriptAgentPath, question],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        RETRACE_STORE: `sqlite:${join(st.dir, 'retrace.db')}`,
        RETRACE_TENANT: TENANT,
        RETRACE_TRACE_ID: traceId,
        OPENAI_BASE_URL: stub.openaiBaseUrl,
        OPENAI_API_KEY: 'test-key',
      },
    },
  );
  return stdout;
}

async function withStore<T>(fn: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openStore(`sqlite:${join(st.dir, 'retrace.db')}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('zero-code traces (agent_started.mode "process")', () => {
  it('replay by re-running the script with its recorded argv and allow-listed env', { timeout: 240_000 }, async () => {
    const stdout = await recordScript('tr-zero-1', 'what is the capital of France?');
    expect(stdout).toContain('Stub answer');
    await stub.close();
    await withStore(async (store) => {
      const result = await replayTrace({ store, tenant: TENANT, traceId: 'tr-zero-1', fast: true, timeoutMs: 120_000 });
      expect(result.misses).toEqual([]);
      expect(result.outcome).toBe('completed');
      expect(['identical', 'equivalent']).toContain(result.verdict);
      const original = await readAll(store, TENANT, 'tr-zero-1');
      const replayed = await readAll(store, TENANT, result.replayTraceId);
      expect(shape(replayed)).toEqual(shape(original));
      expect(replayed.at(-1)).toMatchObject({ type: 'agent_completed', payload: { output: { exitCode: 0, stdout } } });
    });
    stub = await startLlmStub();
  });

  it('--agent may point at a changed copy of the script: the changed request is named', {
    timeout: 240_000,
  }, async () => {
    await recordScript('tr-zero-2', 'hello there');
    const dir = join(repoRoot, 'test/.tmp/zero-code-copy');
    mkdirSync(dir, { recursive: true });
    const copy = join(dir, 'script-agent.mjs');
    copyFileSync(scriptAgentPath, copy);
    writeFileSync(copy, readFileSync(copy, 'utf8').replace("model: 'gpt-4o-mini'", "model: 'gpt-4o'"));
    try {
      await withStore(async (store) => {
        const result = await replayTrace({
          store,
          tenant: TENANT,
          traceId: 'tr-zero-2',
          agent: copy,
          fast: true,
          timeoutMs: 120_000,
        });
        expect(result.verdict).toBe('diverged');
        expect(result.misses[0]).toMatchObject({ policy: 'error', position: 0 });
        expect(result.misses[0]!.diff).toContainEqual({
          op: 'replace',
          path: '/body/model',
          oldValue: 'gpt-4o-mini',
          value: 'gpt-4o',
        });
        expect(result.outcome).toBe('failed');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
