import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NewEvent } from '../../src/events/envelope.js';
import { openStore } from '../../src/store/open-store.js';

/**
 * Runs the BUILT CLI (`node bin/retrace.js …`) as a subprocess, the way users and CI run it. The build happens once
 * per vitest run even though several test files (in parallel forks) ask for it: the first caller takes a lock
 * directory keyed by the vitest process (our parent) and builds; the others wait for its marker file.
 */
const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'retrace.js');
const MAIN = join(ROOT, 'dist', 'replay-cli', 'main.js');

interface BuildMarker {
  ok: boolean;
  output: string;
}

async function build(): Promise<BuildMarker> {
  try {
    await run('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, output: '' };
  } catch (err) {
    const output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    // tsc still emits when other parts of the repo (worked on concurrently) have type errors; only ours must be clean
    const ours = output.split('\n').filter((l) => /^(replay-cli|bin)\//.test(l));
    return { ok: ours.length === 0 && existsSync(MAIN), output };
  }
}

/** vitest's pid plus its start time (Linux), so a recycled pid from an old run never reuses an old build */
function runId(): string {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${process.ppid}-${fields[19] ?? ''}`;
  } catch {
    return String(process.ppid);
  }
}

/** A full `npm run build` on a busy 2-core CI machine can take minutes: pass this as the beforeAll timeout. */
export const BUILD_TIMEOUT_MS = 300_000;

export async function ensureBuilt(): Promise<void> {
  const id = runId();
  const marker = join(tmpdir(), `retrace-cli-build-${id}.json`);
  const lock = join(tmpdir(), `retrace-cli-build-${id}.lock`);
  let result: BuildMarker | undefined;
  try {
    mkdirSync(lock);
    result = await build();
    writeFileSync(marker, JSON.stringify(result));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // another test file is building: wait for its marker (bounded by the hook timeout)
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 200));
    result = JSON.parse(readFileSync(marker, 'utf8')) as BuildMarker;
  }
  if (!result.ok) throw new Error(`npm run build failed for the CLI:\n${result.output}`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function retrace(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      // never inherit a store or tenant from the developer's shell: every test names its own
      env: { ...process.env, RETRACE_STORE: undefined, RETRACE_TENANT: undefined, RETRACE_DEBUG: undefined, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A fresh temp folder with a store URL in it; `cleanup` removes it. */
export function tempStore(name = 'x.db'): { dir: string; url: string; path: string; cleanup: () => void } {
  const dir = join(tmpdir(), `retrace-cli-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  return { dir, path, url: `sqlite:${path}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Seeds traces with the library, then closes the store so the CLI process owns the file alone. */
export async function seed(url: string, traces: Record<string, NewEvent[]>, tenant = 'default'): Promise<void> {
  const store = await openStore(url);
  try {
    for (const [traceId, events] of Object.entries(traces)) await store.append(tenant, traceId, events);
  } finally {
    await store.close();
  }
}
