// The sandbox runtime: the entry of the forked child (see launch.ts). Import order matters: the network guard is
// evaluated first, before anything an agent could reach; the recorder is loaded before the timers are virtualized, so
// its own flush timers keep the real clock; the agent module is imported last, with everything in place.
import { installNetworkGuard } from './guard.js';
import { appendFileSync } from 'node:fs';
import nodeModule, { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChildMessageSchema, ParentMessageSchema, type ChildMessageInput, type SandboxJob } from './protocol.js';
import { installVirtualTimers, type VirtualTimers } from './virtual-timers.js';

const realSetTimeout = globalThis.setTimeout;
const originalSetInterval = globalThis.setInterval;

function send(message: ChildMessageInput): Promise<void> {
  // validate what we send too: a schema drift between the two sides shows up here, named
  const checked = ChildMessageSchema.parse(message);
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(checked, undefined, {}, () => resolve());
  });
}

// workers and child processes: refused in JS only where the permission model had to allow them (tsx's loader)
const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
warmTypeScriptLoader();
const guard = installNetworkGuard((target) => void send({ type: 'net-refused', target }), {
  refuseWorkers: permission?.has('worker') !== false,
  refuseChildProcesses: permission?.has('child') !== false,
});

/**
 * Where Node has module.registerHooks (22.15+, 24), tsx transforms TypeScript on this thread with esbuild's
 * transformSync, which starts esbuild's service on a worker thread the first time it runs. Start that service now,
 * before the guard refuses workers to the agent; later transforms reuse it. (Node 20's tsx hooks run off-thread.)
 */
function warmTypeScriptLoader(): void {
  if (permission?.has('worker') !== true) return; // a JavaScript agent: no loader, workers stay refused by Node
  if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks !== 'function') return;
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as {
      transformSync(code: string, options: object): unknown;
    };
    esbuild.transformSync('', { loader: 'ts' });
  } catch {
    // tsx reports its own loading problem when the agent module is imported
  }
}

// the parent is gone: never outlive it
process.on('disconnect', () => process.exit(70));

interface AppendAck {
  resolve(v: {
    nextExpectedRevision: number;
    positions: Array<{ eventId: string; seq: number; duplicate: boolean }>;
  }): void;
  reject(e: Error): void;
}
const pendingAppends = new Map<number, AppendAck>();
let appendId = 0;
let started = false;

process.on('message', (raw: unknown) => {
  const parsed = ParentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`retrace sandbox: invalid message from the parent: ${parsed.error.message}\n`);
    process.exit(71);
  }
  const msg = parsed.data;
  if (msg.type === 'init') {
    if (started) return;
    started = true;
    void runJob(msg.job).catch(async (err: unknown) => {
      process.stderr.write(`retrace sandbox: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(72);
    });
  } else {
    const ack = pendingAppends.get(msg.id);
    if (!ack) return;
    pendingAppends.delete(msg.id);
    if (msg.ok && msg.result) ack.resolve(msg.result);
    else
      ack.reject(
        Object.assign(new Error(msg.error?.message ?? 'append failed'), {
          name: msg.error?.name ?? 'Error',
          code: msg.error?.code,
        }),
      );
  }
});

function errorInfo(err: unknown): { name: string; message: string; stack?: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(err.stack ? { stack: err.stack } : {}),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

function plain(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}

async function loadEntry(job: SandboxJob): Promise<((...args: unknown[]) => unknown) | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(job.file).href)) as Record<string, unknown>;
  } catch (err) {
    const info = errorInfo(err);
    await send({
      type: 'entry-error',
      reason: 'load-failed',
      file: job.file,
      message: `${info.name}: ${info.message}`,
    });
    return undefined;
  }
  if (job.kind === 'process') return () => undefined;
  const name = job.exportName ?? 'default';
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const available = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    await send({
      type: 'entry-error',
      reason: 'export-missing',
      file: job.file,
      exportName: name,
      available,
      message: `no exported function "${name}"`,
    });
    return undefined;
  }
  return fn as (...args: unknown[]) => unknown;
}

/** Zero-code mode writes events and notices to this journal synchronously (the process may end any moment, with
 *  process.exit or an uncaught error); the parent reads it once the child has exited. */
export const JOURNAL = 'journal.ndjson';

async function runJob(job: SandboxJob): Promise<void> {
  process.env.TMPDIR = job.tempDir;
  const journal = join(job.tempDir, JOURNAL);
  const processMode = job.kind === 'process';
  const { ReplayCache } = await import('../src/replay/cache/lookup.js');
  const { createReplayHooks } = await import('../src/replay/hooks.js');
  // the recorder captures the real clock and timers when it loads: load it before virtualizing them
  const recorderModule = job.kind === 'raw' ? undefined : await import('../src/recorder/index.js');
  // the agent's writes under its project tree go to a per-replay overlay (sandbox/fs-overlay.ts)
  // (a raw self-test job has no recording to compare files with: the permission model alone applies there)
  if (job.kind !== 'raw') {
    const { installFsOverlay } = await import('./fs-overlay.js');
    installFsOverlay({
      root: process.cwd(),
      dir: join(job.tempDir, 'overlay'),
      tempDir: job.tempDir,
      recordedWrites: job.recordedWrites,
    });
  }
  const timers: VirtualTimers = installVirtualTimers({ fast: job.fast });
  const { planArrivals } = await import('../src/replay/arrivals.js');
  const cache = new ReplayCache(job.cache as ConstructorParameters<typeof ReplayCache>[0]);
  const hooks = createReplayHooks({
    cache,
    onMiss: job.onMiss,
    fast: job.fast,
    ...(job.until !== undefined ? { until: job.until } : {}),
    ...(job.override ? { override: job.override } : {}),
    report: (notice) => {
      if (processMode) appendFileSync(journal, `${JSON.stringify({ type: 'notice', notice })}\n`);
      else void send({ type: 'notice', notice });
    },
    activity: timers,
    sleep: (ms) => new Promise((resolve) => realSetTimeout(resolve, ms)),
    onLive: () => guard.allow(),
    arrivals: { plan: planArrivals(job.cache as Parameters<typeof planArrivals>[0]), clock: timers },
  });
  if (job.onMiss === 'live' && job.until === undefined) guard.allow();

  const sink = {
    append(
      _tenant: string,
      _traceId: string,
      events: readonly unknown[],
      options?: { expectedRevision?: 'no_stream' | 'any' | number },
    ) {
      const id = ++appendId;
      timers.begin();
      return new Promise<{
        nextExpectedRevision: number;
        positions: Array<{ eventId: string; seq: number; duplicate: boolean }>;
      }>((resolve, reject) => {
        pendingAppends.set(id, { resolve, reject });
        void send({
          type: 'append',
          id,
          events: events.map((e) => plain(e) as Record<string, unknown>),
          ...(options?.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
        });
      }).finally(() => timers.end());
    },
  };

  if (processMode) return runProcess(recorderModule, job, journal, hooks);
  const fn = await loadEntry(job);
  if (!fn) return;

  let outcome: 'completed' | 'failed' = 'completed';
  let output: unknown;
  let error: ReturnType<typeof errorInfo> | undefined;
  try {
    if (job.kind === 'raw') output = await fn(job.input);
    else output = await runRecorded(recorderModule, job, sink, hooks, fn);
  } catch (err) {
    outcome = 'failed';
    error = errorInfo(err);
  }
  await send({
    type: 'done',
    outcome,
    ...(outcome === 'completed' ? { output: plain(output) } : {}),
    ...(error ? { error } : {}),
    remainingValues: cache.remainingValues() as Record<string, number>,
  });
  timers.uninstall();
  process.exit(0);
}

async function runRecorded(
  recorderModule: unknown,
  job: SandboxJob,
  sink: unknown,
  hooks: unknown,
  fn: (...args: unknown[]) => unknown,
): Promise<unknown> {
  const { createRecorder } = recorderModule as { createRecorder: (options: Record<string, unknown>) => RecorderLike };
  const recorder = createRecorder({
    sink,
    tenant: job.tenant,
    hooks,
    providers: job.providers,
    ...(job.normalization ? { normalization: job.normalization } : {}),
  });
  try {
    const result = await recorder.run(
      {
        agent: job.agent,
        ...(job.entry ? { entry: job.entry } : {}),
        input: job.input,
        traceId: job.traceId,
        replayOf: job.replayOf,
      },
      (ctx: unknown) => fn(job.input, ctx),
    );
    return typeof result === 'object' && result !== null && 'output' in result
      ? (result as { output: unknown }).output
      : result;
  } finally {
    await recorder.close?.();
  }
}

interface RecorderLike {
  run(options: Record<string, unknown>, fn: (ctx: unknown) => unknown): Promise<unknown>;
  close?(): Promise<void>;
}

/**
 * Zero-code replay: the recorded script runs as the main module with its recorded argv, under a process-wide run of
 * the replay-mode recorder, ended the way agent-retrace/register ends it (exit code, uncaught error, stdout).
 */
async function runProcess(recorderModule: unknown, job: SandboxJob, journal: string, hooks: unknown): Promise<void> {
  const { createRecorder } = recorderModule as {
    createRecorder: (options: Record<string, unknown>) => { startProcessRun(o: Record<string, unknown>): ProcessRun };
  };
  const { addExitHook, lastUncaughtError } = await import('../src/recorder/exit.js');
  const { internal } = await import('../src/recorder/context.js');
  const { errorInfo: recorderErrorInfo } = await import('../src/recorder/serialize.js');
  let count = 0;
  const write = (events: readonly unknown[]) => {
    appendFileSync(journal, `${JSON.stringify({ type: 'append', events: events.map((e) => plain(e)) })}\n`);
    const positions = events.map((e) => ({
      eventId: String((e as { eventId?: unknown }).eventId),
      seq: count++,
      duplicate: false,
    }));
    return { nextExpectedRevision: count - 1, positions };
  };
  const sink = {
    append: async (_t: string, _id: string, events: readonly unknown[]) => write(events),
    appendSync: (_t: string, _id: string, events: readonly unknown[]) => write(events),
  };
  const recorder = createRecorder({
    sink,
    tenant: job.tenant,
    hooks,
    providers: job.providers,
    ...(job.normalization ? { normalization: job.normalization } : {}),
  });
  const limit = Number.parseInt(process.env.RETRACE_STDOUT_LIMIT ?? '65536', 10);
  let stdout = '';
  let dropped = 0;
  if (Number.isFinite(limit) && limit > 0) {
    const original = process.stdout.write;
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text =
        typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
      const room = limit - stdout.length;
      if (room > 0) stdout += text.slice(0, room);
      if (text.length > room) dropped += text.length - Math.max(0, room);
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  }
  const scriptArgv = [job.file, ...job.args];
  const run = recorder.startProcessRun({
    agent: job.agent,
    traceId: job.traceId,
    input: job.input,
    replayOf: job.replayOf,
    environment: { argv: scriptArgv, env: {} },
  });
  const terminal = (code: number) => {
    const uncaught = lastUncaughtError();
    if (uncaught !== undefined) return { type: 'agent_failed' as const, error: recorderErrorInfo(uncaught) };
    if (code !== 0)
      return {
        type: 'agent_failed' as const,
        error: { name: 'NonZeroExit', message: `The process exited with code ${code}.`, code: String(code) },
      };
    const output: { exitCode: number; stdout?: string; stdoutTruncatedBytes?: number } = { exitCode: 0 };
    if (limit > 0) output.stdout = stdout;
    if (dropped > 0) output.stdoutTruncatedBytes = dropped;
    return { type: 'agent_completed' as const, output };
  };
  let ending = false;
  process.on('beforeExit', (code) => {
    if (ending) return;
    ending = true;
    void internal(() => run.finish(terminal(code)));
  });
  addExitHook((code) => {
    if (!ending) {
      ending = true;
      run.finishSync(terminal(code));
    } else run.flushSync();
  });
  // the script ends the process: the IPC channel must not keep it alive; a parent that went away still ends it
  process.removeAllListeners('disconnect');
  process.channel?.unref();
  originalSetInterval(() => {
    if (!process.connected) process.exit(70);
  }, 500).unref();
  process.argv = [process.execPath, ...scriptArgv];
  try {
    await import(pathToFileURL(job.file).href);
  } catch (err) {
    // a script that throws at the top level: let it be the uncaught error it was in the recording
    process.nextTick(() => {
      throw err;
    });
  }
}

interface ProcessRun {
  finish(t: unknown): Promise<void>;
  finishSync(t: unknown): void;
  flushSync(): void;
}
