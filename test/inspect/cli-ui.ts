import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningUi {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts the built `retrace ui` (dist/, from `npm run build`) and waits for the URL it prints. */
export async function startUi(args: string[]): Promise<RunningUi> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(RETRACE_|OPENAI_)/.test(k)) env[k] = v;
  const child = spawn(process.execPath, [`${repoRoot}bin/retrace.js`, ...args], { cwd: repoRoot, env });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`retrace ui printed no URL: ${out}`)), 30_000);
    const check = () => {
      const m = /retrace inspector: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`retrace ui exited with ${code}: ${out}`), { code, out }));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Runs `retrace ui` expecting it to exit (a refused start). */
export function runUiExpectingExit(args: string[]): Promise<{ code: number | null; out: string }> {
  return startUi(args).then(
    async (ui) => {
      await ui.stop();
      throw new Error(`retrace ui started at ${ui.url} but was expected to refuse`);
    },
    (err: { code?: number | null; out?: string }) => ({ code: err.code ?? null, out: err.out ?? String(err) }),
  );
}
