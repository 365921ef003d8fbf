import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AppendOptions, AppendResult } from '../../store/types.js';
import type { NewEvent } from '../../events/envelope.js';
import { parseNewEvent } from '../../events/validate.js';
import {
  EntryExportMissingError,
  EntryLoadError,
  SandboxCrashedError,
  SandboxOutOfMemoryError,
  SandboxProtocolError,
  SandboxStartError,
  SandboxTimeoutError,
} from '../errors.js';
import { sandboxProcessEnv } from './child-env.js';
import { isolation as probeIsolation, type Isolation } from './isolation.js';
import { ingestJournal, JOURNAL_FILE, validateEvents } from './journal.js';
import { permissionArgs } from './permissions.js';
import { ChildMessageSchema, SealedSchema, type ChildMessage, type SandboxJobInput } from './protocol.js';
import { real, runtimeEntry } from './runtime-bundle.js';
import { watchRss } from './rss-watch.js';
import { newSealKey, sealValid } from './seal.js';
import { isTypeScript, transpileAgent } from './transpile.js';
import { startWatchdog } from './watchdog.js';

export { nearestNodeModules, permissionFlag } from './permissions.js';

/**
 * The parent side of the sandbox: spawn the runtime (sandbox/runtime.ts) under Node's permission model (reads from
 * permissions.ts, code not data), inside a network namespace and with a parent-death signal where the platform has
 * them (isolation.ts), with a fixed process environment (child-env.ts), TypeScript transpiled out here
 * (transpile.ts), a timeout and an RSS cap enforced from this process's event loop, sealed and schema-checked
 * messages, and a guaranteed kill + temp dir removal whatever happens.
 *
 * Two steps, so a sandbox can be started before its job is known (pool.ts, replay.ts): `startSandbox` spawns the
 * process from a `SandboxSpec` — everything its command line, environment and working directory depend on, none of
 * it the trace's data — and the runtime loads retrace's modules and waits; `runSandbox` sends it the one job
 * (variables, caches, overlay, clock: all applied in the child before the agent is imported) and supervises it to
 * the end. A started sandbox runs exactly one job and is then killed; `launchSandbox` is both steps at once.
 */

/** Everything a sandbox process's spawn depends on: two specs with the same key start the very same process. */
export interface SandboxSpec {
  /** the agent module the job will import (a TypeScript agent is transpiled when the sandbox starts) */
  agentFile: string;
  /** extra read-allowed paths (the agent's code dir and node_modules are added by the caller) */
  readPaths: readonly string[];
  /** paths never readable even inside an allowed folder (the store file and its WAL; see read-policy.ts) */
  denyPaths?: readonly string[];
  /** the agent's own folder, scanned for data and credential files (default: the folder of agentFile) */
  codeDir?: string;
  /** the agent's node_modules, linked next to a transpiled TypeScript agent */
  nodeModules?: string;
  /** the working directory the process starts in (a spawn option: under the permission model a chdir is refused) */
  cwd: string;
  /** the cap on the child's resident memory (and its V8 heap), in MB */
  memoryMb: number;
  /** no network at the OS level (every miss policy but live) */
  strict: boolean;
  /** use the OS layers (network namespace, parent-death signal) where available (default true) */
  osIsolation?: boolean;
}

/** The identity of a spec: a pre-started sandbox is only ever used for a job whose own spec has the same key. */
export function sandboxSpecKey(spec: SandboxSpec): string {
  return JSON.stringify([
    spec.agentFile,
    [...spec.readPaths],
    [...(spec.denyPaths ?? [])],
    spec.codeDir ?? dirname(spec.agentFile),
    spec.nodeModules ?? null,
    spec.cwd,
    spec.memoryMb,
    spec.strict,
    spec.osIsolation !== false,
  ]);
}

export interface LaunchOptions {
  job: Omit<SandboxJobInput, 'tempDir' | 'sealKey'>;
  /** extra read-allowed paths (the agent's code dir and node_modules are added by the caller) */
  readPaths: readonly string[];
  /** paths never readable even inside an allowed folder (the store file and its WAL; see read-policy.ts) */
  denyPaths?: readonly string[];
  /** the agent's own folder, scanned for data and credential files (default: the folder of job.file) */
  codeDir?: string;
  /** the agent's node_modules, linked next to a transpiled TypeScript agent */
  nodeModules?: string;
  cwd: string;
  timeoutMs: number;
  /** the cap on the child's resident memory (and its V8 heap), in MB */
  memoryMb: number;
  /** use the OS layers (network namespace, parent-death signal) where available (default true) */
  osIsolation?: boolean;
  onAppend(events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>;
  onMessage?(message: ChildMessage): void;
  /** called with the child's pid when it is given this job (tests check it is gone afterwards) */
  onSpawn?(pid: number): void;
  /** the agent's stdout (default: dropped, it is not retrace's output) */
  onStdout?(chunk: Buffer): void;
  /** a sandbox started earlier (pool.ts); used only when it was started from this launch's own spec, else disposed */
  sandbox?: Promise<StartedSandbox>;
}

/** The spec a launch's own spawn would use. */
export function specOf(options: Omit<LaunchOptions, 'onAppend'>): SandboxSpec {
  return {
    agentFile: options.job.file,
    readPaths: options.readPaths,
    ...(options.denyPaths ? { denyPaths: options.denyPaths } : {}),
    ...(options.codeDir !== undefined ? { codeDir: options.codeDir } : {}),
    ...(options.nodeModules !== undefined ? { nodeModules: options.nodeModules } : {}),
    cwd: options.cwd,
    memoryMb: options.memoryMb,
    strict: options.job.onMiss !== 'live',
    ...(options.osIsolation === false ? { osIsolation: false } : {}),
  };
}

export interface LaunchResult {
  done: Extract<ChildMessage, { type: 'done' }>;
  pid: number;
  /** the child's writable temp dir (already removed when this is returned) */
  tempDir: string;
  stderr: string;
  netRefused: string[];
  /** which OS layers held for this launch */
  isolation: Isolation;
  /** the highest resident memory seen, in MB (0 where the platform has no way to read it) */
  peakRssMb: number;
}

/** A sandbox process started from a spec, waiting for its one job. */
export interface StartedSandbox {
  readonly key: string;
  readonly pid: number;
  /** the file the job imports (the transpiled bundle for a TypeScript agent) */
  readonly agentFile: string;
  readonly tempDir: string;
  readonly isolation: Isolation;
  /** still running, never given a job, and silent so far (the runtime sends nothing before its job) */
  usable(): boolean;
  /** kills it and removes its temp dir (idempotent) */
  dispose(): Promise<void>;
}

interface Started extends StartedSandbox {
  readonly child: ChildProcess;
  readonly sealKey: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  claimed: boolean;
  early: boolean;
  spawnError?: Error;
  stdout?: (chunk: Buffer) => void;
}

const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function track(child: ChildProcess, tempDir: string): void {
  live.set(child, tempDir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, dir] of live) {
        c.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function startError(err: unknown): SandboxStartError {
  if (err instanceof SandboxStartError) return err;
  return new SandboxStartError(err instanceof Error ? err.message : String(err), '', { cause: err });
}

const handles = new WeakMap<StartedSandbox, Started>();

/** Spawns a sandbox for `spec`; it loads retrace's runtime and waits for its job (runSandbox). */
export async function startSandbox(spec: SandboxSpec): Promise<StartedSandbox> {
  const tempDir = real(mkdtempSync(join(tmpdir(), 'retrace-sandbox-')));
  let runtimePath: string;
  let agentFile = spec.agentFile;
  const readPaths = [...spec.readPaths];
  try {
    runtimePath = runtimeEntry();
    if (isTypeScript(agentFile)) {
      const transpiled = await transpileAgent(agentFile, spec.nodeModules);
      agentFile = transpiled.file;
      readPaths.push(...transpiled.readPaths);
    }
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw startError(err);
  }
  const layers: Isolation =
    spec.osIsolation === false
      ? { wrapper: [], network: 'none', parentDeath: 'none' }
      : probeIsolation({ network: spec.strict });
  const nodeArgs = [
    ...permissionArgs({
      runtimePath,
      readPaths,
      tempDir,
      denyPaths: spec.denyPaths ?? [],
      codeDir: spec.codeDir ?? dirname(spec.agentFile),
    }),
    `--max-old-space-size=${spec.memoryMb}`,
    '--enable-source-maps',
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    runtimePath,
  ];
  const [command, ...args] = [...layers.wrapper, process.execPath, ...nodeArgs];

  let child: ChildProcess;
  try {
    child = spawn(command!, args, {
      cwd: spec.cwd,
      env: sandboxProcessEnv(tempDir),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // its own process group: a signal the agent sends to "its group" reaches nothing of the caller's
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw startError(err);
  }
  track(child, tempDir);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => {
      // 'exit' can come before the child's last IPC messages are read (its 'done' is in the pipe): they have all been
      // delivered once the channel has closed, so the exit counts from then (bounded, should a grandchild hold it)
      if (!child.connected) return res({ code, signal });
      const settle = () => res({ code, signal });
      child.once('disconnect', settle);
      setTimeout(settle, 2000).unref();
    });
  });
  // a spawn failure (ENOENT…) arrives as 'error', then no exit: the sandbox is not usable, and says why
  let failed = false;
  child.once('error', (err) => {
    failed = true;
    started.spawnError = err;
  });
  let disposed: Promise<void> | undefined;
  const started: Started = {
    key: sandboxSpecKey(spec),
    pid: child.pid ?? -1,
    agentFile,
    tempDir,
    isolation: layers,
    child,
    sealKey: newSealKey(),
    exited,
    stderr: () => stderr,
    claimed: false,
    early: false,
    usable: () => !failed && !started.claimed && !started.early && alive(child) && child.connected,
    dispose() {
      disposed ??= (async () => {
        if (alive(child) && !failed) child.kill('SIGKILL');
        if (!failed) await exited;
        live.delete(child);
        rmSync(tempDir, { recursive: true, force: true });
      })();
      return disposed;
    },
  };
  child.stdout?.on('data', (chunk: Buffer) => started.stdout?.(chunk));
  // nothing may come before the job: the runtime has no seal key yet, so anything sent now is not the runtime's
  const early = (): void => {
    if (!started.claimed) started.early = true;
  };
  child.on('message', early);
  handles.set(started, started);
  return started;
}

/** Starts a sandbox for this launch (or takes `options.sandbox` when it was started from the same spec) and runs the job. */
export async function launchSandbox(options: LaunchOptions): Promise<LaunchResult> {
  const spec = specOf(options);
  let sandbox: StartedSandbox | undefined;
  if (options.sandbox) {
    try {
      sandbox = await options.sandbox;
    } catch {
      sandbox = undefined; // a pre-start that failed: start one now, and report that start's own error if any
    }
    if (sandbox && (sandbox.key !== sandboxSpecKey(spec) || !sandbox.usable())) {
      await sandbox.dispose();
      sandbox = undefined;
    }
  }
  return runSandbox(sandbox ?? (await startSandbox(spec)), options);
}

/** Gives a started sandbox its one job and supervises it to the end; the sandbox is disposed whatever happens. */
export async function runSandbox(sandbox: StartedSandbox, options: LaunchOptions): Promise<LaunchResult> {
  const s = handles.get(sandbox);
  if (!s) throw new SandboxStartError('not a sandbox started by startSandbox', '');
  if (s.claimed) throw new SandboxStartError('this sandbox was already given a job (each runs exactly one)', '');
  const wasEarly = s.early;
  s.claimed = true;
  const { child, tempDir, sealKey, exited, pid } = s;
  const layers = s.isolation;
  if (options.onStdout) s.stdout = options.onStdout;
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const stopWatchdog =
    layers.parentDeath === 'none' && child.pid !== undefined
      ? startWatchdog(child.pid, Date.now() + options.timeoutMs + 2_000)
      : () => undefined;
  const tail = (): string =>
    s
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-15)
      .join('\n');
  const netRefused: string[] = [];
  const toEvents = (raw: readonly unknown[]): NewEvent[] =>
    validateEvents(raw, (e, i) => parseNewEvent(e, i) as unknown as NewEvent);
  let rss: ReturnType<typeof watchRss> | undefined;

  try {
    const result = await new Promise<LaunchResult>((resolvePromise, reject) => {
      let settled = false;
      let expectedN = 0;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        rss?.stop();
        fn();
      };
      const fail = (err: Error): void =>
        finish(() => {
          if (alive(child)) child.kill('SIGKILL');
          reject(err);
        });
      const timer = setTimeout(() => fail(new SandboxTimeoutError(options.timeoutMs, tail())), options.timeoutMs);
      if (child.pid !== undefined)
        rss = watchRss(child.pid, options.memoryMb, () => fail(new SandboxOutOfMemoryError(options.memoryMb, tail())));
      if (s.spawnError) {
        const err = s.spawnError;
        fail(new SandboxStartError(err.message, tail(), { cause: err }));
        return;
      }
      if (wasEarly) {
        fail(new SandboxProtocolError('a message before the job: the retrace runtime sends nothing before it', tail()));
        return;
      }

      child.on('error', (err) => fail(new SandboxStartError(err.message, tail(), { cause: err })));
      child.on('message', (raw: unknown) => {
        if (settled) return;
        // only what retrace's runtime sealed counts: the agent shares the process and could write to the channel
        const sealed = SealedSchema.safeParse(raw);
        if (
          !sealed.success ||
          sealed.data.n !== expectedN ||
          !sealValid(sealKey, sealed.data.n, sealed.data.body, sealed.data.mac)
        ) {
          fail(new SandboxProtocolError('a message that the retrace runtime did not seal (or out of order)', tail()));
          return;
        }
        expectedN += 1;
        const parsed = ChildMessageSchema.safeParse(sealed.data.body);
        if (!parsed.success) {
          fail(
            new SandboxProtocolError(
              parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
              tail(),
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
            let events: NewEvent[];
            try {
              events = toEvents(msg.events);
            } catch (err) {
              fail(err as Error);
              return;
            }
            options
              .onAppend(events, msg.expectedRevision !== undefined ? { expectedRevision: msg.expectedRevision } : {})
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
            fail(
              msg.reason === 'export-missing'
                ? new EntryExportMissingError(options.job.file, msg.exportName ?? 'default', msg.available)
                : new EntryLoadError(options.job.file, msg.message),
            );
            break;
          case 'done':
            finish(() =>
              resolvePromise({
                done: msg,
                pid,
                tempDir,
                stderr: s.stderr(),
                netRefused,
                isolation: layers,
                peakRssMb: rss?.peakMb ?? 0,
              }),
            );
            break;
        }
      });
      void exited.then(async ({ code, signal }) => {
        if (settled) return;
        const out = tail();
        if (/heap out of memory|Reached heap limit|Allocation failed/i.test(s.stderr()))
          return fail(new SandboxOutOfMemoryError(options.memoryMb, out));
        if (options.job.kind === 'process' && signal === null) {
          // zero-code: the script ending the process is the normal end; its events are in the journal
          try {
            const done = await ingestJournal(
              join(tempDir, JOURNAL_FILE),
              {
                onAppend: (events) => options.onAppend(toEvents(events), {}),
                onMessage: (m) => options.onMessage?.(m),
              },
              code ?? 0,
              sealKey,
            );
            finish(() =>
              resolvePromise({
                done,
                pid,
                tempDir,
                stderr: s.stderr(),
                netRefused,
                isolation: layers,
                peakRssMb: rss?.peakMb ?? 0,
              }),
            );
          } catch (err) {
            fail(err instanceof Error ? err : new Error(String(err)));
          }
          return;
        }
        fail(new SandboxCrashedError(code, signal, out));
      });
      if (!child.connected) return; // it already ended: the exit handler above reports how
      child.send(
        { type: 'init', job: { ...options.job, file: s.agentFile, scriptPath: options.job.file, tempDir, sealKey } },
        (err) => {
          if (err) fail(new SandboxStartError(`could not send the job: ${err.message}`, tail(), { cause: err }));
        },
      );
    });
    return result;
  } finally {
    rss?.stop();
    await sandbox.dispose();
    stopWatchdog();
  }
}
