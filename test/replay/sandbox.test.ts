import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchSandbox, permissionFlag, type LaunchOptions } from '../../src/replay/sandbox/launch.js';
import { ChildMessageSchema, ParentMessageSchema } from '../../src/replay/sandbox/protocol.js';
import { processGone } from './helpers.js';

const agentsDir = fileURLToPath(new URL('./agents/', import.meta.url));
const hostile = fileURLToPath(new URL('./agents/hostile.ts', import.meta.url));

const hostileJs = fileURLToPath(new URL('./agents/hostile.mjs', import.meta.url));

function raw(exportName: string, input: unknown = {}, extra: Partial<LaunchOptions> = {}, file = hostile) {
  let pid = -1;
  const promise = launchSandbox({
    job: {
      kind: 'raw',
      file,
      exportName,
      input,
      agent: 'sandbox-test',
      tenant: 't',
      traceId: 'tr-sandbox',
      replayOf: { traceId: 'tr-original' },
      cache: { exchanges: [], tools: [], values: {} },
      onMiss: 'error',
      fast: true,
    },
    readPaths: [agentsDir],
    cwd: process.cwd(),
    timeoutMs: 30_000,
    memoryMb: 256,
    onAppend: async () => {
      throw new Error('no appends in raw mode');
    },
    onSpawn: (p) => (pid = p),
    ...extra,
  });
  return { promise, pid: () => pid };
}

describe('sandbox process', () => {
  it('chooses the permission flag by Node version', () => {
    expect(permissionFlag('20.20.2')).toBe('--experimental-permission');
    expect(permissionFlag('22.23.3')).toBe('--experimental-permission');
    expect(permissionFlag('24.21.0')).toBe('--permission');
  });

  it('refuses raw sockets (net.connect) inside the child and reports the attempt', async () => {
    const run = raw('connectOut', { port: 9 });
    const r = await run.promise;
    expect(r.done.output).toMatchObject({ refused: true, code: 'ERR_ACCESS_DENIED' });
    expect(r.netRefused).toEqual(['127.0.0.1:9']);
    expect(processGone(run.pid())).toBe(true);
  });

  it('cannot write outside its temp dir (ERR_ACCESS_DENIED), can write inside it, and the temp dir is removed', async () => {
    const denied = await raw('writeToRepo').promise;
    expect(denied.done).toMatchObject({ outcome: 'failed', error: { code: 'ERR_ACCESS_DENIED' } });
    expect(existsSync(new URL('./agents/written-by-sandbox.txt', import.meta.url))).toBe(false);
    const allowed = await raw('writeToTemp').promise;
    expect(allowed.done.output).toEqual({ ok: true });
    expect(allowed.tempDir.startsWith(tmpdir()) || allowed.tempDir.includes('retrace-sandbox-')).toBe(true);
    expect(existsSync(allowed.tempDir)).toBe(false);
    expect(existsSync(denied.tempDir)).toBe(false);
  });

  it('cannot read files outside the allowed paths, nor spawn processes', async () => {
    const read = await raw('readSecret', { path: '/etc/hostname' }).promise;
    expect(read.done).toMatchObject({ outcome: 'failed', error: { code: 'ERR_ACCESS_DENIED' } });
    const spawned = await raw('spawnChild').promise;
    expect(spawned.done).toMatchObject({ outcome: 'failed', error: { code: 'ERR_ACCESS_DENIED' } });
  });

  it('a JavaScript agent runs with no loader: the permission model itself refuses child processes and workers', async () => {
    const spawned = await raw('spawnChild', {}, {}, hostileJs).promise;
    expect(spawned.done).toMatchObject({
      outcome: 'failed',
      error: { code: 'ERR_ACCESS_DENIED', message: expect.stringMatching(/^Access to this API has been restricted/) },
    });
    const worker = await raw('startWorker', {}, {}, hostileJs).promise;
    expect(worker.done).toMatchObject({ outcome: 'failed', error: { code: 'ERR_ACCESS_DENIED' } });
  });

  it('fast-forwards timers, keeping their order (a 30 s backoff does not wait 30 s)', async () => {
    const r = await raw('backoff').promise;
    expect(r.done.output).toEqual({ order: ['0', '10s', '30s'] });
    const mix = await raw('timerMix').promise;
    expect(mix.done.output).toEqual({ order: ['tick1', '1.5s', 'tick2', 'tick3', 'slept 5s', 'promise v'] });
  });

  it('kills a child that hangs past the timeout (SANDBOX_TIMEOUT) and leaves no process behind', async () => {
    const run = raw('hang', {}, { timeoutMs: 4_000 });
    await expect(run.promise).rejects.toMatchObject({ code: 'SANDBOX_TIMEOUT' });
    expect(processGone(run.pid())).toBe(true);
  });

  it('reports a child that exceeds the memory cap (SANDBOX_OUT_OF_MEMORY)', async () => {
    const run = raw('hogMemory', {}, { memoryMb: 64 });
    await expect(run.promise).rejects.toMatchObject({ code: 'SANDBOX_OUT_OF_MEMORY' });
    expect(processGone(run.pid())).toBe(true);
  });

  it('reports a child that dies (SANDBOX_CRASHED) with its exit code', async () => {
    const run = raw('crash');
    await expect(run.promise).rejects.toMatchObject({ code: 'SANDBOX_CRASHED', exitCode: 3 });
    expect(processGone(run.pid())).toBe(true);
  });

  it('reports an entry that does not export the function, and one that fails to load', async () => {
    const missing = raw('noSuchExport');
    await expect(missing.promise).rejects.toMatchObject({
      code: 'REPLAY_ENTRY_EXPORT_MISSING',
      exportName: 'noSuchExport',
    });
    expect(processGone(missing.pid())).toBe(true);
    const notFn = raw('notAFunction');
    await expect(notFn.promise).rejects.toMatchObject({ code: 'REPLAY_ENTRY_EXPORT_MISSING' });
  });

  it('validates every IPC message with zod', () => {
    expect(ChildMessageSchema.safeParse({ type: 'done', outcome: 'completed', output: 1 }).success).toBe(true);
    expect(ChildMessageSchema.safeParse({ type: 'done', outcome: 'maybe' }).success).toBe(false);
    expect(ChildMessageSchema.safeParse({ type: 'append', id: 1, events: 'nope' }).success).toBe(false);
    expect(ChildMessageSchema.safeParse({ type: 'shell', cmd: 'rm -rf /' }).success).toBe(false);
    expect(
      ParentMessageSchema.safeParse({
        type: 'append-result',
        id: 1,
        ok: true,
        result: { nextExpectedRevision: 3, positions: [] },
      }).success,
    ).toBe(true);
    expect(ParentMessageSchema.safeParse({ type: 'init', job: { kind: 'raw' } }).success).toBe(false);
  });
});
