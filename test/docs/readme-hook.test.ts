import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { openStore } from '../../src/store/open-store.js';

/**
 * The README's "hook in ten lines" must stay true: this test takes the snippet verbatim from README.md, points its
 * `agent-retrace` import at this checkout, runs it against the LLM stub through the real openai SDK, and checks the
 * trace it printed is in the store with the tool call and the LLM call in it.
 */
const root = join(import.meta.dirname, '..', '..');
let stub: LlmStub;
let dir: string;
beforeAll(async () => {
  stub = await startLlmStub();
  // inside the checkout (test/.tmp is git-ignored) so the snippet's `import OpenAI from 'openai'` resolves
  mkdirSync(join(root, 'test', '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, 'test', '.tmp', 'readme-'));
});
afterAll(async () => {
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Record a run'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ```ts block under "## Record a run"');
  return match[1];
}

describe('README: the recorder hook in ten lines', () => {
  it('runs as written and records a trace with the tool call and the LLM call', async () => {
    const snippet = readmeSnippet();
    expect(snippet.trim().split('\n').length).toBeLessThanOrEqual(14);
    const file = join(dir, 'hook.mts');
    writeFileSync(
      file,
      snippet.replace("from 'agent-retrace'", `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`),
    );
    const db = join(dir, 'readme.db');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: {
        ...process.env,
        RETRACE_STORE: `sqlite:${db}`,
        OPENAI_BASE_URL: stub.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-test-readme',
      },
    });
    const traceId = stdout.trim().split('\n').pop() ?? '';
    const store = await openStore(`sqlite:${db}`);
    try {
      const types: string[] = [];
      for await (const e of store.read('acme', traceId)) types.push(e.type);
      expect(types).toContain('tool_call');
      expect(types).toContain('llm_request');
      expect(types.at(-1)).toBe('agent_completed');
    } finally {
      await store.close();
    }
  });
});
