import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub } from '../../fixtures/llm-stub/index.js';
import { writeNdjsonFile } from '../../src/transfer/ndjson.js';
import { createRecorder } from '../../src/recorder/index.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * The README's msw example must stay true: a run is recorded through the real openai SDK against the LLM stub and
 * exported, then the README's test file — verbatim but for the import path and the fixture path — runs in its own
 * vitest process with the stub gone, so its answer can only come from the recording.
 */
const root = join(import.meta.dirname, '..', '..');
let dir = '';
let fixture = '';

function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use a recorded run in your own tests (msw)'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1])
    throw new Error('README.md has no ```ts block under "## Use a recorded run in your own tests (msw)"');
  return match[1];
}

beforeAll(async () => {
  mkdirSync(join(root, 'test', '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, 'test', '.tmp', 'readme-msw-'));
  const stub = await startLlmStub({ chunkDelayMs: 0 });
  const store = new SqliteEventStore(join(dir, 'rec.db'));
  const recorder = createRecorder({ store, providers: [stub.openaiBaseUrl] });
  try {
    const { traceId } = await recorder.run({ agent: 'order-bot' }, async () => {
      const openai = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-readme-msw' });
      const r = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Where is my order A-1001?' }],
      });
      return r.choices[0]?.message.content;
    });
    fixture = join(dir, 'order.ndjson');
    await writeNdjsonFile(fixture, store.read('default', traceId));
  } finally {
    await recorder.close();
    await store.close();
    await stub.close();
  }
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README: agent-retrace/msw in a vitest test', () => {
  it('runs as written against an exported trace', async () => {
    const snippet = readmeSnippet();
    expect(snippet).toContain("from 'agent-retrace/msw'");
    const file = join(dir, 'readme.test.ts');
    writeFileSync(
      file,
      snippet
        .replace("from 'agent-retrace/msw'", `from ${JSON.stringify(join(root, 'src', 'msw', 'index.ts'))}`)
        .replace("'test/fixtures/order.ndjson'", JSON.stringify(fixture)),
    );
    const result = await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file],
      { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? -1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    expect(result.out).toMatch(/Tests\s+1 passed/);
    expect(result.code, result.out).toBe(0);
  }, 180_000);
});
