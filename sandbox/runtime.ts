// The sandbox runtime: the entry of the forked child (see launch.ts). Import order matters: the network guard is
// evaluated first, before anything an agent could reach; the recorder is loaded before the timers are virtualized, so
// its own flush timers keep the real clock; the agent module is imported last, with everything in place.
import { installNetworkGuard } from './guard.js';
import { pathToFileURL } from 'node:url';
import { ChildMessageSchema, ParentMessageSchema, type ChildMessageInput, type SandboxJob } from './protocol.js';
import { installVirtualTimers, type VirtualTimers } from './virtual-timers.js';

const realSetTimeout = globalThis.setTimeout;

function send(message: ChildMessageInput): Promise<void> {
  // validate what we send too: a schema drift between the two sides shows up here, named
  const checked = ChildMessageSchema.parse(message);
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(checked, undefined, {}, () => resolve());
  });
}

const guard = installNetworkGuard((target) => void send({ type: 'net-refused', target }), { refuseWorkers: true, refuseChildProcesses: true });

// the parent is gone: never outlive it
process.on('disconnect', () => process.exit(70));

interface AppendAck {
  resolve(v: { nextExpectedRevision: number; positions: Array<{ eventId: string; seq: number; duplicate: boolean }> }): void;
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
    else ack.reject(Object.assign(new Error(msg.error?.message ?? 'append failed'), { name: msg.error?.name ?? 'Error', code: msg.error?.code }));
  }
});

function errorInfo(err: unknown): { name: string; message: string; stack?: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
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
    await send({ type: 'entry-error', reason: 'load-failed', file: job.file, message: `${info.name}: ${info.message}` });
    return undefined;
  }
  if (job.kind === 'process') return () => undefined;
  const name = job.exportName ?? 'default';
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const available = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    await send({ type: 'entry-error', reason: 'export-missing', file: job.file, exportName: name, available, message: `no exported function "${name}"` });
    return undefined;
  }
  return fn as (...args: unknown[]) => unknown;
}

async function runJob(job: SandboxJob): Promise<void> {
  process.env.TMPDIR = job.tempDir;
  const { ReplayCache } = await import('../src/replay/cache/lookup.js');
  const { createReplayHooks } = await import('../src/replay/hooks.js');
  // the recorder captures the real clock and timers when it loads: load it before virtualizing them
  const recorderModule = job.kind === 'raw' ? undefined : await import('../src/recorder/index.js');
  const timers: VirtualTimers = installVirtualTimers();
  const cache = new ReplayCache(job.cache as ConstructorParameters<typeof ReplayCache>[0]);
  const hooks = createReplayHooks({
    cache,
    onMiss: job.onMiss,
    fast: job.fast,
    ...(job.until !== undefined ? { until: job.until } : {}),
    ...(job.override ? { override: job.override } : {}),
    report: (notice) => void send({ type: 'notice', notice }),
    activity: timers,
    sleep: (ms) => new Promise((resolve) => realSetTimeout(resolve, ms)),
    onLive: () => guard.allow(),
  });
  if (job.onMiss === 'live' && job.until === undefined) guard.allow();

  const sink = {
    append(_tenant: string, _traceId: string, events: readonly unknown[], options?: { expectedRevision?: 'no_stream' | 'any' | number }) {
      const id = ++appendId;
      timers.begin();
      return new Promise<{ nextExpectedRevision: number; positions: Array<{ eventId: string; seq: number; duplicate: boolean }> }>((resolve, reject) => {
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
  await send({ type: 'done', outcome, ...(outcome === 'completed' ? { output: plain(output) } : {}), ...(error ? { error } : {}), remainingValues: cache.remainingValues() as Record<string, number> });
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
    const result = await recorder.run({ agent: job.agent, ...(job.entry ? { entry: job.entry } : {}), input: job.input, traceId: job.traceId, replayOf: job.replayOf }, (ctx: unknown) => fn(job.input, ctx));
    return typeof result === 'object' && result !== null && 'output' in result ? (result as { output: unknown }).output : result;
  } finally {
    await recorder.close?.();
  }
}

interface RecorderLike {
  run(options: Record<string, unknown>, fn: (ctx: unknown) => unknown): Promise<unknown>;
  close?(): Promise<void>;
}
