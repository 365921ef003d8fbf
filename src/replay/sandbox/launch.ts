import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { AppendOptions, AppendResult } from '../../store/types.js';
import type { NewEvent } from '../../events/envelope.js';
import {
  EntryExportMissingError,
  EntryLoadError,
  SandboxCrashedError,
  SandboxOutOfMemoryError,
  SandboxProtocolError,
  SandboxStartError,
  SandboxTimeoutError,
} from '../errors.js';
import { ingestJournal, JOURNAL_FILE } from './journal.js';
import { permissionArgs } from './permissions.js';
import { ChildMessageSchema, type ChildMessage, type SandboxJobInput } from './protocol.js';
import { real, runtimeEntry } from './runtime-bundle.js';

export { nearestNodeModules, permissionFlag } from './permissions.js';

/**
 * The parent side of the sandbox: fork the runtime (sandbox/runtime.ts) under Node's permission model (see
 * permissions.ts) with a memory cap, a timeout, zod-validated messages, and a guaranteed kill + temp dir removal
 * whatever happens.
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

const TSX_LOADER = (() => {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
})();

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

export function needsTsx(file: string): boolean {
  return /\.(c|m)?tsx?$/.test(file);
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
  let runtimePath: string;
  try {
    runtimePath = runtimeEntry();
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw new SandboxStartError(err instanceof Error ? err.message : String(err), '', { cause: err });
  }
  const useTsx = needsTsx(options.job.file);
  if (useTsx && !TSX_LOADER) {
    rmSync(tempDir, { recursive: true, force: true });
    throw new SandboxStartError('the agent is TypeScript but tsx is not installed', '');
  }
  // tsx's transform cache lives in $TMPDIR/tsx-<euid>: seed the sandbox's own copy from the shared one (read only,
  // never copied back, so an agent cannot poison later replays) to skip re-transpiling retrace's runtime every time
  if (useTsx) seedTsxCache(tempDir);
  const execArgv = [
    ...permissionArgs({ runtimePath, readPaths: options.readPaths, tempDir }),
    `--max-old-space-size=${options.memoryMb}`,
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
  ];
  // tsx's loader hooks run on a worker thread (module.register) and spawn esbuild: with tsx the permission model has
  // to allow both, and guard.ts refuses them again, in JS, to the agent's own thread
  if (useTsx && TSX_LOADER) execArgv.push('--allow-worker', '--allow-child-process', '--import', TSX_LOADER);

  let child: ChildProcess;
  try {
    child = fork(runtimePath, [], {
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
            const done = await ingestJournal(
              join(tempDir, JOURNAL_FILE),
              { onAppend: (events) => options.onAppend(events, {}), onMessage: (m) => options.onMessage?.(m) },
              code ?? 0,
            );
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
