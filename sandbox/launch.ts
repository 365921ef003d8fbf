import { fork, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppendOptions, AppendResult } from '../src/store/types.js';
import type { NewEvent } from '../src/events/envelope.js';
import {
  EntryExportMissingError,
  EntryLoadError,
  SandboxCrashedError,
  SandboxOutOfMemoryError,
  SandboxProtocolError,
  SandboxStartError,
  SandboxTimeoutError,
} from '../src/replay/errors.js';
import { ChildMessageSchema, NoticeSchema, type ChildMessage, type SandboxJobInput } from './protocol.js';
import * as z from 'zod';

/**
 * The parent side of the sandbox: fork the runtime under Node's permission model — reads only where the
 * agent's code, its node_modules and retrace's own runtime live, writes only to a fresh temp dir, no child processes,
 * no addons, workers only where tsx needs them (then refused again in JS, see guard.ts) — with a memory cap, a
 * timeout, zod-validated messages, and a guaranteed kill + temp dir removal whatever happens.
 */

export interface LaunchOptions {
  job: Omit<SandboxJobInput, 'tempDir'>;
  /** extra read-allowed paths (the agent's code dir and node_modules are added by the caller) */
  readPaths: readonly string[];
  cwd: string;
  env?: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  onAppend(events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>;
  onMessage?(message: ChildMessage): void;
  /** called with the child's pid right after the fork (tests check it is gone afterwards) */
  onSpawn?(pid: number): void;
  /** the agent's stdout (default: dropped, it is not retrace's output) */
  onStdout?(chunk: Buffer): void;
}

export interface LaunchResult {
  done: Extract<ChildMessage, { type: 'done' }>;
  pid: number;
  /** the child's writable temp dir (already removed when this is returned) */
  tempDir: string;
  stderr: string;
  netRefused: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** sandbox/ (source) or dist/sandbox/ (built) */
export const RUNTIME_PATH = join(here, `runtime${ext}`);
/** the checkout (or dist/) root that holds sandbox/ and src/ */
const CODE_ROOT = dirname(here);
/** the package root (package.json, pricing/): the checkout, or the parent of dist/ */
const PACKAGE_ROOT = (() => {
  for (let d = CODE_ROOT; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dirname(CODE_ROOT);
  }
})();

function packageDirOf(specifier: string): string | undefined {
  try {
    const file = fileURLToPath(import.meta.resolve(specifier));
    const i = file.lastIndexOf(`${sep}node_modules${sep}`);
    return i >= 0 ? file.slice(0, i + sep.length + 'node_modules'.length) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The recorder looks for its package.json (version) and pricing/models.json by walking up from its own folder, and
 * under the permission model even existsSync of an unreadable path throws: allow exactly those probes, from the
 * recorder's folder up to the package root.
 */
const PACKAGE_PROBES: string[] = (() => {
  const out: string[] = [];
  for (let d = join(CODE_ROOT, 'src', 'recorder'); ; d = dirname(d)) {
    out.push(join(d, 'package.json'), join(d, 'pricing'), join(d, 'pricing', 'models.json'));
    if (d === PACKAGE_ROOT || dirname(d) === d) break;
  }
  return out;
})();

/** the node_modules folder retrace's own dependencies come from */
export const OWN_NODE_MODULES = packageDirOf('zod');
const TSX_LOADER = (() => {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
})();

/** The permission-model flag for this Node version: no longer experimental from Node 24 on. */
export function permissionFlag(version = process.versions.node): string {
  const major = Number(version.split('.')[0]);
  return major >= 24 ? '--permission' : '--experimental-permission';
}

/** The nearest node_modules folder at or above dir, if any. */
export function nearestNodeModules(dir: string): string | undefined {
  let d = resolve(dir);
  for (;;) {
    const candidate = join(d, 'node_modules');
    if (existsSync(candidate)) return candidate;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * The runtime the child runs. Built (dist/): runtime.js as is. From a source checkout: runtime.ts and the src/ files
 * it imports bundled into one ESM file with esbuild (packages stay external), written under node_modules/.cache so
 * bare imports resolve, once per content — so the child needs no TypeScript loader for retrace's own code, and a
 * JavaScript agent runs with the full permission model (no workers, no child processes). Falls back to runtime.ts via
 * tsx when esbuild is not installed.
 */
let bundled: string | undefined;
function runtimeEntry(): { path: string; typescript: boolean } {
  if (ext === '.js') return { path: RUNTIME_PATH, typescript: false };
  if (bundled) return { path: bundled, typescript: false };
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as {
      buildSync(o: Record<string, unknown>): { outputFiles?: Array<{ path: string; text: string }> };
    };
    // splitting keeps dynamic imports lazy (store backends with native addons are never loaded in the sandbox)
    const out = esbuild.buildSync({
      entryPoints: { runtime: RUNTIME_PATH },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      outdir: '/retrace-bundle',
      sourcemap: 'inline',
      logLevel: 'silent',
    });
    const files = out.outputFiles ?? [];
    if (files.length === 0 || !OWN_NODE_MODULES) throw new Error('no output');
    const hash = createHash('sha256');
    for (const f of files) hash.update(f.path).update(f.text);
    const dir = join(OWN_NODE_MODULES, '.cache', 'agent-retrace', `sandbox-runtime-${hash.digest('hex').slice(0, 16)}`);
    const file = join(dir, 'runtime.js');
    if (!existsSync(file)) {
      const tmp = `${dir}.${process.pid}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, 'package.json'), '{"type":"module"}');
      for (const f of files) writeFileSync(join(tmp, f.path.slice('/retrace-bundle/'.length)), f.text);
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another process won the race: same content
      }
    }
    bundled = real(file);
    return { path: bundled, typescript: false };
  } catch {
    return { path: RUNTIME_PATH, typescript: true };
  }
}

export function needsTsx(file: string, runtimeIsTypeScript = ext === '.ts'): boolean {
  return runtimeIsTypeScript || /\.(c|m)?tsx?$/.test(file);
}

function seedTsxCache(tempDir: string): void {
  const name = `tsx-${process.geteuid ? process.geteuid() : userInfo().username}`;
  const shared = join(tmpdir(), name);
  try {
    if (existsSync(shared)) cpSync(shared, join(tempDir, name), { recursive: true });
  } catch {
    /* a cold cache only costs time */
  }
}

export async function launchSandbox(options: LaunchOptions): Promise<LaunchResult> {
  const tempDir = real(mkdtempSync(join(tmpdir(), 'retrace-sandbox-')));
  const runtime = runtimeEntry();
  const useTsx = needsTsx(options.job.file, runtime.typescript);
  if (useTsx && !TSX_LOADER) {
    rmSync(tempDir, { recursive: true, force: true });
    throw new SandboxStartError('the agent is TypeScript but tsx is not installed', '');
  }
  // tsx's transform cache lives in $TMPDIR/tsx-<euid>: seed the sandbox's own copy from the shared one (read only,
  // never copied back, so an agent cannot poison later replays) to skip re-transpiling retrace's runtime every time
  if (useTsx) seedTsxCache(tempDir);
  const reads = new Set<string>([
    here,
    dirname(runtime.path),
    join(CODE_ROOT, 'src'),
    tempDir,
    ...options.readPaths.map(real),
    ...PACKAGE_PROBES,
  ]);
  if (OWN_NODE_MODULES) reads.add(real(OWN_NODE_MODULES));
  const execArgv = [
    permissionFlag(),
    ...[...reads].map((p) => `--allow-fs-read=${p}`),
    `--allow-fs-write=${tempDir}`,
    `--max-old-space-size=${options.memoryMb}`,
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
  ];
  // tsx's loader hooks run on a worker thread (module.register) and spawn esbuild: with tsx the permission model has
  // to allow both, and guard.ts refuses them again, in JS, to the agent's own thread
  if (useTsx && TSX_LOADER) execArgv.push('--allow-worker', '--allow-child-process', '--import', TSX_LOADER);

  let child: ChildProcess;
  try {
    child = fork(runtime.path, [], {
      cwd: options.cwd,
      execArgv,
      env: { ...options.env, TMPDIR: tempDir, TMP: tempDir, TEMP: tempDir, HOME: tempDir },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw new SandboxStartError(err instanceof Error ? err.message : String(err), '', { cause: err });
  }
  track(child);
  const pid = child.pid ?? -1;
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  let stderr = '';
  const keep = (chunk: Buffer): void => {
    stderr += chunk.toString('utf8');
    if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
  const tail = (): string =>
    stderr
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-15)
      .join('\n');
  const netRefused: string[] = [];

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
  });

  try {
    const result = await new Promise<LaunchResult>((resolvePromise, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        finish(() => {
          child.kill('SIGKILL');
          reject(new SandboxTimeoutError(options.timeoutMs, tail()));
        });
      }, options.timeoutMs);

      child.on('error', (err) => finish(() => reject(new SandboxStartError(err.message, tail(), { cause: err }))));
      child.on('message', (raw: unknown) => {
        if (settled) return;
        const parsed = ChildMessageSchema.safeParse(raw);
        if (!parsed.success) {
          finish(() =>
            reject(
              new SandboxProtocolError(
                parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
                tail(),
              ),
            ),
          );
          return;
        }
        const msg = parsed.data;
        options.onMessage?.(msg);
        switch (msg.type) {
          case 'ready':
            break;
          case 'append': {
            options
              .onAppend(
                msg.events as unknown as NewEvent[],
                msg.expectedRevision !== undefined ? { expectedRevision: msg.expectedRevision } : {},
              )
              .then(
                (result) => child.connected && child.send({ type: 'append-result', id: msg.id, ok: true, result }),
                (err: unknown) => {
                  const e = err instanceof Error ? err : new Error(String(err));
                  const code = (e as { code?: unknown }).code;
                  if (child.connected)
                    child.send({
                      type: 'append-result',
                      id: msg.id,
                      ok: false,
                      error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) },
                    });
                },
              );
            break;
          }
          case 'net-refused':
            netRefused.push(msg.target);
            break;
          case 'notice':
            break;
          case 'entry-error':
            finish(() =>
              reject(
                msg.reason === 'export-missing'
                  ? new EntryExportMissingError(msg.file, msg.exportName ?? 'default', msg.available)
                  : new EntryLoadError(msg.file, msg.message),
              ),
            );
            break;
          case 'done':
            finish(() => resolvePromise({ done: msg, pid, tempDir, stderr, netRefused }));
            break;
        }
      });
      void exited.then(async ({ code, signal }) => {
        if (settled) return;
        const out = tail();
        if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr))
          return finish(() => reject(new SandboxOutOfMemoryError(options.memoryMb, out)));
        if (options.job.kind === 'process' && signal === null) {
          // zero-code: the script ending the process is the normal end; its events are in the journal
          try {
            const done = await ingestJournal(join(tempDir, 'journal.ndjson'), options, code ?? 0);
            finish(() => resolvePromise({ done, pid, tempDir, stderr, netRefused }));
          } catch (err) {
            finish(() => reject(err));
          }
          return;
        }
        finish(() => reject(new SandboxCrashedError(code, signal, out)));
      });
      child.send({ type: 'init', job: { ...options.job, tempDir } }, (err) => {
        if (err)
          finish(() => reject(new SandboxStartError(`could not send the job: ${err.message}`, tail(), { cause: err })));
      });
    });
    return result;
  } finally {
    if (alive(child)) child.kill('SIGKILL');
    await exited;
    live.delete(child);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

const JournalLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('append'), events: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ type: z.literal('notice'), notice: NoticeSchema }),
]);

/** Replays a zero-code child's journal into the parent, in order: appends to the store, notices to the caller. */
async function ingestJournal(
  path: string,
  options: LaunchOptions,
  exitCode: number,
): Promise<Extract<ChildMessage, { type: 'done' }>> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    /* the script ended before recording anything */
  }
  let last: Record<string, unknown> | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = JournalLineSchema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new SandboxProtocolError(`invalid journal line: ${parsed.error.issues[0]?.message ?? ''}`, '');
    const entry = parsed.data;
    if (entry.type === 'append') {
      await options.onAppend(entry.events as unknown as NewEvent[], {});
      last = entry.events.at(-1) ?? last;
    } else options.onMessage?.({ type: 'notice', notice: entry.notice });
  }
  const payload = (last?.payload ?? {}) as {
    output?: unknown;
    error?: { name: string; message: string; code?: string };
  };
  if (last?.type === 'agent_completed')
    return { type: 'done', outcome: 'completed', output: payload.output, remainingValues: {} };
  const error =
    last?.type === 'agent_failed' && payload.error
      ? payload.error
      : { name: 'NonZeroExit', message: `The process exited with code ${exitCode}.` };
  return {
    type: 'done',
    outcome: exitCode === 0 && last?.type !== 'agent_failed' ? 'completed' : 'failed',
    error,
    remainingValues: {},
  };
}
