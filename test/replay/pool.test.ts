import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  launchSandbox,
  runSandbox,
  sandboxSpecKey,
  specOf,
  startSandbox,
  type LaunchOptions,
  type SandboxSpec,
} from '../../src/replay/sandbox/launch.js';
import { SandboxPool } from '../../src/replay/sandbox/pool.js';
import { processGone } from './helpers.js';

/**
 * Pre-started sandboxes (src/replay/sandbox/launch.ts startSandbox/runSandbox, pool.ts): a sandbox started before its
 * job gets everything of the job (variables, temp dir) only with the job, runs exactly one, is used only for the spec
 * it was started from, and none is left behind.
 */
const agentsDir = fileURLToPath(new URL('./agents/', import.meta.url));
const probe = fileURLToPath(new URL('./agents/prestart-probe.mjs', import.meta.url));
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'retrace-pool-test-')));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function options(extra: Partial<LaunchOptions> = {}): LaunchOptions {
  return {
    job: {
      kind: 'raw',
      file: probe,
      exportName: 'probe',
      input: {},
      agent: 'pool-test',
      tenant: 't',
      traceId: 'tr-pool',
      replayOf: { traceId: 'tr-original' },
      cache: { exchanges: [], tools: [], values: {} },
      onMiss: 'error',
      fast: true,
      agentEnv: { GREETING: 'from the job', MODEL: 'gpt-4o-mini' },
    },
    readPaths: [agentsDir],
    cwd: process.cwd(),
    timeoutMs: 30_000,
    memoryMb: 256,
    onAppend: async () => {
      throw new Error('no appends in raw mode');
    },
    ...extra,
  };
}

const waitFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pre-started sandboxes', () => {
  it('a sandbox started before its job sees only the job: its variables, its temp dir, its spec cwd', async () => {
    const o = options();
    const sandbox = await startSandbox(specOf(o));
    await waitFor(1_000); // past Node's start and the runtime's imports: the job arrives at a waiting sandbox
    expect(sandbox.usable()).toBe(true);
    const r = await runSandbox(sandbox, o);
    const out = r.done.output as { cwd: string; env: Record<string, string> };
    expect(out.env).toEqual({
      GREETING: 'from the job',
      MODEL: 'gpt-4o-mini',
      HOME: sandbox.tempDir,
      TMPDIR: sandbox.tempDir,
      TMP: sandbox.tempDir,
      TEMP: sandbox.tempDir,
    });
    expect(out.cwd).toBe(process.cwd());
    expect(r.pid).toBe(sandbox.pid);
    expect(processGone(sandbox.pid)).toBe(true);
    // exactly one job per sandbox
    expect(sandbox.usable()).toBe(false);
    await expect(runSandbox(sandbox, o)).rejects.toMatchObject({ code: 'SANDBOX_START_FAILED' });
  });

  it('a started sandbox and a fresh launch answer the same job the same way', async () => {
    const o = options();
    const fresh = await launchSandbox(o);
    const pre = await launchSandbox({ ...o, sandbox: startSandbox(specOf(o)) });
    const strip = (x: unknown) => {
      const v = x as { cwd: string; env: Record<string, string> };
      return { cwd: v.cwd, env: Object.keys(v.env).sort(), greeting: v.env.GREETING };
    };
    expect(strip(pre.done.output)).toEqual(strip(fresh.done.output));
  });

  it('is never used for another spec: a launch disposes a mismatched one and starts its own', async () => {
    const o = options();
    const other = startSandbox({ ...specOf(o), cwd: scratch });
    const wrong = await other;
    expect(wrong.key).not.toBe(sandboxSpecKey(specOf(o)));
    const r = await launchSandbox({ ...o, sandbox: other });
    expect(r.pid).not.toBe(wrong.pid);
    expect((r.done.output as { cwd: string }).cwd).toBe(process.cwd());
    expect(processGone(wrong.pid)).toBe(true);
  });

  it('one that died while it waited is replaced by a fresh start', async () => {
    const o = options();
    const dead = await startSandbox(specOf(o));
    process.kill(dead.pid, 'SIGKILL');
    await waitFor(300);
    expect(dead.usable()).toBe(false);
    const r = await launchSandbox({ ...o, sandbox: Promise.resolve(dead) });
    expect(r.pid).not.toBe(dead.pid);
    expect(r.done.outcome).toBe('completed');
  });

  it('the pool hands out sandboxes of the spec asked for, pre-starts only expected ones, and leaves none behind', async () => {
    const pool = new SandboxPool(2);
    pool.expect(2);
    const a: SandboxSpec = specOf(options());
    const b: SandboxSpec = { ...a, cwd: scratch };
    const first = await pool.take(a);
    expect(first.key).toBe(sandboxSpecKey(a));
    // one more take expected: one sandbox of the spec just taken waits for it
    const waitingA = await pool.waiting();
    expect(waitingA.map((s) => s.key)).toEqual([sandboxSpecKey(a)]);
    const second = await pool.take(b);
    expect(second.key).toBe(sandboxSpecKey(b));
    expect(second.pid).not.toBe(waitingA[0]!.pid);
    // nothing more expected: nothing new is started
    const waiting = await pool.waiting();
    expect(waiting.map((s) => s.pid)).toEqual([waitingA[0]!.pid]);
    const r = await runSandbox(second, options({ cwd: scratch }));
    expect((r.done.output as { cwd: string }).cwd).toBe(scratch);
    // no more takes expected: closing disposes what waits; the taken, unused one is the caller's to dispose
    await pool.close();
    await first.dispose();
    expect(await pool.waiting()).toEqual([]);
    for (const w of waiting) expect(processGone(w.pid)).toBe(true);
    expect(processGone(first.pid)).toBe(true);
    expect(processGone(second.pid)).toBe(true);
  });
});
