import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { openStore } from '../../src/store/open-store.js';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../cli/cli-harness.js';

/**
 * The README's hook must stay true: this test takes the snippet verbatim from README.md, points its `agent-retrace`
 * import at this checkout, runs it against the LLM stub through the real openai SDK, checks the trace it printed is in
 * the store with the tool call and the LLM call in it, then stops the stub and replays it with `retrace replay <id>`.
 */
const root = join(import.meta.dirname, '..', '..');
let stub: LlmStub;
let dir: string;
let stopped = false;
beforeAll(async () => {
  stub = await startLlmStub();
  // inside the checkout (test/.tmp is git-ignored) so the snippet's `import OpenAI from 'openai'` resolves
  mkdirSync(join(root, 'test', '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, 'test', '.tmp', 'readme-'));
});
afterAll(async () => {
  if (!stopped) await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Record a run'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ```ts block under "## Record a run"');
  return match[1];
}

describe('README: the recorder hook', () => {
  it(
    'runs as written, records the tool call and the LLM call, and `retrace replay <id>` replays it with no flags',
    async () => {
      const snippet = readmeSnippet();
      expect(snippet.trim().split('\n').length).toBeLessThanOrEqual(20);
      await ensureBuilt();
      // the file name the snippet's entry names, in a folder of the project
      const file = join(dir, 'agent.ts');
      writeFileSync(
        file,
        // the built package, as a user's node_modules/agent-retrace would be
        snippet.replace("from 'agent-retrace'", `from ${JSON.stringify(join(root, 'dist', 'src', 'index.js'))}`),
      );
      const db = join(dir, 'readme.db');
      const { OPENAI_API_KEY: _k, OPENAI_BASE_URL: _b, RETRACE_TENANT: _t, ...shell } = process.env;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
        cwd: dir,
        env: {
          ...shell,
          RETRACE_STORE: `sqlite:${db}`,
          OPENAI_BASE_URL: stub.openaiBaseUrl,
          OPENAI_API_KEY: 'sk-test-readme',
        },
      });
      const traceId = stdout.trim().split('\n').pop() ?? '';
      const store = await openStore(`sqlite:${db}`);
      try {
        const types: string[] = [];
        for await (const e of store.read('default', traceId)) types.push(e.type);
        expect(types).toContain('tool_call');
        expect(types).toContain('llm_request');
        expect(types.at(-1)).toBe('agent_completed');
      } finally {
        await store.close();
      }
      // offline, without the recording's variables, from the folder a user would be in: no flags
      await stub.close();
      stopped = true;
      const replay = await promisify(execFile)(process.execPath, [join(root, 'bin', 'retrace.js'), 'replay', traceId], {
        cwd: dir,
        env: { ...shell, RETRACE_STORE: `sqlite:${db}` },
      });
      expect(replay.stdout + replay.stderr).toMatch(/identical|equivalent/);
    },
    BUILD_TIMEOUT_MS + 120_000,
  );
});
