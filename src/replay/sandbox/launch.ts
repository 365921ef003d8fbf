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
 */

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
  /** called with the child's pid right after the spawn (tests check it is gone afterwards) */
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
  /** which OS layers held for this launch */
  isolation: Isolation;
  /** the highest resident memory seen, in MB (0 where the platform has no way to read it) */
  peakRssMb: number;
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

function startError(err: unknown): SandboxStartError {
  if (err instanceof SandboxStartError) return err;
  return new SandboxStartError(err instanceof Error ? err.message : String(err), '', { cause: err });
}

export async function launchSandbox(options: LaunchOptions): Promise<LaunchResult> {
  const tempDir = real(mkdtempSync(join(tmpdir(), 'retrace-sandbox-')));
  const sealKey = newSealKey();
  let runtimePath: string;
  let agentFile = options.job.file;
  const readPaths = [...options.readPaths];
  try {
    runtimePath = runtimeEntry();
    if (isTypeScript(agentFile)) {
      const transpiled = await transpileAgent(agentFile, options.nodeModules);
      agentFile = transpiled.file;
      readPaths.push(...transpiled.readPaths);
    }
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw startError(err);
  }
  const strict = options.job.onMiss !== 'live';
  const layers: Isolation =
    options.osIsolation === false
      ? { wrapper: [], network: 'none', parentDeath: 'none' }
      : probeIsolation({ network: strict });
  const nodeArgs = [
    ...permissionArgs({
      runtimePath,
      readPaths,
      tempDir,
      denyPaths: options.denyPaths ?? [],
      codeDir: options.codeDir ?? dirname(options.job.file),
    }),
    `--max-old-space-size=${options.memoryMb}`,
    '--enable-source-maps',
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    runtimePath,
  ];
  const [command, ...args] = [...layers.wrapper, process.execPath, ...nodeArgs];

  let child: ChildProcess;
  try {
    child = spawn(command!, args, {
      cwd: options.cwd,
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
  track(child);
  const pid = child.pid ?? -1;
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const stopWatchdog =
    layers.parentDeath === 'none' && child.pid !== undefined
      ? startWatchdog(child.pid, Date.now() + options.timeoutMs + 2_000)
      : () => undefined;

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
                stderr,
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
        if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr))
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
                stderr,
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
      child.send(
        { type: 'init', job: { ...options.job, file: agentFile, scriptPath: options.job.file, tempDir, sealKey } },
        (err) => {
          if (err) fail(new SandboxStartError(`could not send the job: ${err.message}`, tail(), { cause: err }));
        },
      );
    });
    return result;
  } finally {
    rss?.stop();
    if (alive(child)) child.kill('SIGKILL');
    await exited;
    stopWatchdog();
    live.delete(child);
    rmSync(tempDir, { recursive: true, force: true });
  }
}
