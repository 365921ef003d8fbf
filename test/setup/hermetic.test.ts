import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

/**
 * `npm test` passes whatever the shell exports: a nested vitest run of representative files — recorder tests that read
 * back the "default" tenant, the msw handlers (which hosts count as LLM endpoints depends on OPENAI_BASE_URL), and the
 * child-process check — with every ambient variable set to something hostile. Without the scrub in vitest.config.ts
 * and test/setup/hermetic.ts the recorder and msw files fail under these variables.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOSTILE = {
  RETRACE_STORE: 'sqlite:/nonexistent-dir/never.db',
  RETRACE_TENANT: 'someone-else',
  RETRACE_DEBUG: '1',
  OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
  OPENAI_API_KEY: 'sk-from-the-shell',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
  ANTHROPIC_API_KEY: 'sk-ant-from-the-shell',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  AWS_PROFILE: 'nobody',
};

it('representative tests pass with RETRACE_*, OPENAI_*, ANTHROPIC_* and AWS_* set in the environment', async () => {
  const files = [
    'test/recorder/streaming.test.ts',
    'test/msw/handlers-from-trace.test.ts',
    'test/store/sqlite.contract.test.ts',
    'test/setup/child-env.test.ts',
  ];
  const run = promisify(execFile);
  const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const result = await run(process.execPath, [vitest, 'run', ...files], {
    cwd: ROOT,
    env: { ...process.env, ...HOSTILE, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    maxBuffer: 32 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    }),
  );
  expect(result.out).toMatch(/Test Files\s+\S*4 passed/);
  expect(result.code, result.out).toBe(0);
}, 300_000);
