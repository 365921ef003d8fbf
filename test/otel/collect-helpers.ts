import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../cli/cli-harness.js';

/** Starts the built `retrace collect --port 0 --json` and waits for the URL it prints. */
export async function startCollect(
  env: Record<string, string>,
  extra: string[] = [],
): Promise<{ url: string; token?: string; child: ChildProcess; stderr: () => string; stop(): Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'retrace.js'), 'collect', '--port', '0', '--json', ...extra],
    {
      cwd: ROOT,
      env: { ...process.env, RETRACE_STORE: undefined, RETRACE_TENANT: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const first = await new Promise<{ url: string; token?: string }>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      // --json prints one (pretty-printed) object: wait until it parses whole
      try {
        resolve(JSON.parse(out) as { url: string; token?: string });
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`retrace collect exited ${code}: ${err}`)));
  });
  return {
    ...first,
    child,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
