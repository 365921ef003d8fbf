// The sandbox runtime: the entry of the forked child (see src/replay/sandbox/launch.ts). Import order matters: the
// network guard is evaluated first, before anything an agent could reach; the agent's process.env view (until the
// job arrives: the process's own fixed environment, child-env.ts) replaces the real one before anything reads it;
// retrace's own modules — the recorder among them — are loaded next, before any job is known, so a pre-started
// sandbox (src/replay/sandbox/pool.ts) has them ready when its job arrives; the recorder is loaded before the timers
// are virtualized, so its own flush timers keep the real clock. Everything of the trace (its variables, caches,
// overlay, clock) is applied when the job arrives, and the agent module is imported last, with everything in place.
// A sandbox started for its job right away runs the very same sequence.
import { installNetworkGuard } from './guard.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NewEvent } from '../src/events/envelope.js';
import type { ReplayHooks } from '../src/recorder/hooks.js';
import type { RecorderOptions } from '../src/recorder/recorder.js';
import type { AppendOptions, AppendResult } from '../src/store/types.js';
import type { SandboxJob } from '../src/replay/sandbox/protocol.js';
import { JOURNAL_FILE } from '../src/replay/sandbox/journal.js';
import { installAgentEnv } from './agent-env.js';
import { listen, type Channel } from './channel.js';
import { installVirtualTimers, type VirtualTimers } from './virtual-timers.js';

type RecorderModule = typeof import('../src/recorder/index.js');

const realSetTimeout = globalThis.setTimeout;
const originalSetInterval = globalThis.setInterval;

// module-local, never exported: agent code cannot reach the channel (and its seal key) through this module
let channel: Channel | undefined;
const guard = installNetworkGuard((target) => void channel?.send({ type: 'net-refused', target }));
const agentEnv = installAgentEnv();

/** retrace's own modules, none of which depends on a job: loaded while the sandbox waits for one */
async function preload() {
  const [lookup, hooks, recorder, overlay, arrivals] = await Promise.all([
    import('../src/replay/cache/lookup.js'),
    import('../src/replay/hooks.js'),
    // the recorder captures the real clock and timers when it loads: before any job virtualizes them
    import('../src/recorder/index.js'),
    import('./fs-overlay.js'),
    import('../src/replay/arrivals.js'),
  ]);
  return { lookup, hooks, recorder, overlay, arrivals };
}
const loaded = preload();
// a failed preload surfaces in runJob (awaited there); not an unhandled rejection while the sandbox waits
loaded.catch(() => undefined);

listen((job, ch) => {
  channel = ch;
  return runJob(job, ch);
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

async function loadEntry(job: SandboxJob, ch: Channel): Promise<((...args: unknown[]) => unknown) | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(job.file).href)) as Record<string, unknown>;
  } catch (err) {
    const info = errorInfo(err);
    await ch.send({
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
    await ch.send({
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

async function runJob(job: SandboxJob, ch: Channel): Promise<void> {
  const modules = await loaded;
  // the agent's environment view, before any of its code runs (the recorder looks for provider base URLs there)
  agentEnv.fill({
    ...job.agentEnv,
    HOME: job.tempDir,
    TMPDIR: job.tempDir,
    TMP: job.tempDir,
    TEMP: job.tempDir,
  });
  const journal = join(job.tempDir, JOURNAL_FILE);
  const processMode = job.kind === 'process';
  const { ReplayCache } = modules.lookup;
  const { createReplayHooks } = modules.hooks;
  // a raw self-test job runs no recorder: none is created, no run started (loading the module only wraps process.env
  // in its transparent read capture, src/recorder/env-capture.ts)
  const recorderModule = job.kind === 'raw' ? undefined : modules.recorder;
  // the agent's writes under its project tree go to a per-replay overlay (sandbox/fs-overlay.ts)
  // (a raw self-test job has no recording to compare files with: the permission model alone applies there)
  if (job.kind !== 'raw') {
    const { installFsOverlay } = modules.overlay;
    installFsOverlay({
      root: process.cwd(),
      dir: join(job.tempDir, 'overlay'),
      tempDir: job.tempDir,
      recordedWrites: job.recordedWrites,
    });
  }
  const timers: VirtualTimers = installVirtualTimers({ fast: job.fast });
  const { planArrivals } = modules.arrivals;
  const cache = new ReplayCache(job.cache as ConstructorParameters<typeof ReplayCache>[0]);
  const hooks = createReplayHooks({
    cache,
    onMiss: job.onMiss,
    fast: job.fast,
    ...(job.until !== undefined ? { until: job.until } : {}),
    ...(job.override ? { override: job.override } : {}),
    report: (notice) => {
      if (processMode) ch.journal(journal, { type: 'notice', notice });
      else void ch.send({ type: 'notice', notice });
    },
    activity: timers,
    sleep: (ms) => new Promise((resolve) => realSetTimeout(resolve, ms)),
    onLive: () => guard.allow(),
    arrivals: { plan: planArrivals(job.cache as Parameters<typeof planArrivals>[0]), clock: timers },
  });
  if (job.onMiss === 'live' && job.until === undefined) guard.allow();

  const sink: NonNullable<RecorderOptions['sink']> = {
    append(_tenant: string, _traceId: string, events: readonly NewEvent[], options?: AppendOptions) {
      timers.begin();
      return ch
        .requestAppend(
          events.map((e) => plain(e) as Record<string, unknown>),
          options,
        )
        .finally(() => timers.end());
    },
  };

  if (processMode) return runProcess(recorderModule, job, journal, hooks, ch);
  const fn = await loadEntry(job, ch);
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
  await ch.send({
    type: 'done',
    outcome,
    ...(outcome === 'completed' ? { output: plain(output) } : {}),
    ...(error ? { error } : {}),
    remainingValues: cache.remainingValues(),
  });
  timers.uninstall();
  process.exit(0);
}

async function runRecorded(
  recorderModule: RecorderModule | undefined,
  job: SandboxJob,
  sink: NonNullable<RecorderOptions['sink']>,
  hooks: ReplayHooks,
  fn: (...args: unknown[]) => unknown,
): Promise<unknown> {
  if (!recorderModule) throw new Error('the recorder is not loaded');
  const recorder = recorderModule.createRecorder({
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
      (ctx) => fn(job.input, ctx),
    );
    return result.output;
  } finally {
    await recorder.close();
  }
}

/**
 * Zero-code replay: the recorded script runs as the main module with its recorded argv, under a process-wide run of
 * the replay-mode recorder, ended the way agent-retrace/register ends it (exit code, uncaught error, stdout).
 */
async function runProcess(
  recorderModule: RecorderModule | undefined,
  job: SandboxJob,
  journal: string,
  hooks: ReplayHooks,
  ch: Channel,
): Promise<void> {
  if (!recorderModule) throw new Error('the recorder is not loaded');
  const { createRecorder } = recorderModule;
  const { addExitHook, lastUncaughtError } = await import('../src/recorder/exit.js');
  const { internal } = await import('../src/recorder/context.js');
  const { errorInfo: recorderErrorInfo } = await import('../src/recorder/serialize.js');
  let count = 0;
  const write = (events: readonly NewEvent[]): AppendResult => {
    ch.journal(journal, { type: 'append', events: events.map((e) => plain(e) as Record<string, unknown>) });
    const positions = events.map((e) => ({
      eventId: e.eventId,
      seq: count++,
      duplicate: false,
    }));
    return { nextExpectedRevision: count - 1, positions };
  };
  const sink = {
    append: async (_t: string, _id: string, events: readonly NewEvent[]) => write(events),
    appendSync: (_t: string, _id: string, events: readonly NewEvent[]) => write(events),
  };
  const recorder = createRecorder({
    sink,
    tenant: job.tenant,
    hooks,
    providers: job.providers,
    ...(job.normalization ? { normalization: job.normalization } : {}),
  });
  const limit = job.stdoutLimit;
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
  const scriptArgv = [job.scriptPath ?? job.file, ...job.args];
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
