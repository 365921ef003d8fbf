import net from 'node:net';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Test agents that try to leave the sandbox; each reports what happened instead of crashing. */

export async function connectOut(input: {
  port: number;
}): Promise<{ refused: boolean; code?: string; message?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(input.port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve({ refused: false });
    });
    socket.on('error', (err: Error & { code?: string }) =>
      resolve({ refused: true, code: err.code, message: err.message }),
    );
  });
}

export async function writeToRepo(): Promise<void> {
  const target = join(fileURLToPath(new URL('.', import.meta.url)), 'written-by-sandbox.txt');
  writeFileSync(target, 'escaped');
}

export async function writeToTemp(): Promise<{ ok: boolean }> {
  const target = join(process.env.TMPDIR ?? '/nonexistent', 'scratch.txt');
  writeFileSync(target, 'fine');
  return { ok: readFileSync(target, 'utf8') === 'fine' };
}

export async function readSecret(input: { path: string }): Promise<string> {
  return readFileSync(input.path, 'utf8');
}

export async function spawnChild(): Promise<void> {
  const cp = await import('node:child_process');
  cp.execSync('echo hi');
}

export async function hang(): Promise<void> {
  await new Promise(() => {
    setInterval(() => undefined, 1 << 30);
  });
}

export async function hogMemory(): Promise<number> {
  const keep: unknown[] = [];
  for (;;) keep.push(new Array(1_000_000).fill({ x: Math.random() }));
}

export async function crash(): Promise<void> {
  process.exit(3);
}

export async function backoff(): Promise<{ order: string[] }> {
  const order: string[] = [];
  await Promise.all([
    new Promise<void>((r) =>
      setTimeout(() => {
        order.push('30s');
        r();
      }, 30_000),
    ),
    new Promise<void>((r) =>
      setTimeout(() => {
        order.push('10s');
        r();
      }, 10_000),
    ),
    new Promise<void>((r) =>
      setTimeout(() => {
        order.push('0');
        r();
      }, 0),
    ),
  ]);
  return { order };
}

export const notAFunction = 42;

/** Timer semantics under fast-forwarding: intervals, clears, timers/promises, refresh, and unref'ed timers. */
export async function timerMix(): Promise<{ order: string[] }> {
  const { setTimeout: sleep } = await import('node:timers/promises');
  const order: string[] = [];
  let ticks = 0;
  const interval = setInterval(() => {
    ticks++;
    order.push(`tick${ticks}`);
    if (ticks === 3) clearInterval(interval);
  }, 1_000);
  const cleared = setTimeout(() => order.push('cleared (must not fire)'), 2_500);
  clearTimeout(cleared);
  setTimeout(() => order.push('unref (must not fire)'), 3_600_000).unref();
  setTimeout(() => order.push('1.5s'), 1_500);
  await sleep(5_000);
  order.push('slept 5s');
  const value = await sleep(60_000, 'v');
  order.push(`promise ${value}`);
  return { order };
}
