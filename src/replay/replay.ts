import { dirname } from 'node:path';
import type { NewEvent, StoredEvent, StoredEventOf } from '../events/envelope.js';
import { assertTenantId, assertTraceId, newTraceId } from '../events/ids.js';
import type { ErrorInfo } from '../events/payloads.js';
import type { NormalizationOptions } from '../hashing/request-key.js';
import type { AppendResult, EventStore } from '../store/types.js';
import { ReadOnlyStoreError } from '../errors.js';
import { agentEnv, droppedEnvWarning } from './sandbox/child-env.js';
import { launchSandbox, nearestNodeModules, startSandbox, type StartedSandbox } from './sandbox/launch.js';
import type { SandboxSource } from './sandbox/pool.js';
import { storeFiles } from './sandbox/read-policy.js';
import type { ChildMessage } from './sandbox/protocol.js';
import type { DiffReport } from '../diff/report-schema.js';
import type { ReplayDivergence, ReplayVerdict } from './comparison.js';
import { resolveEntry, type ResolvedEntry } from './entry.js';
import { agentRetraceCopy } from './agent-reads.js';
import { replayCwd } from './replay-cwd.js';
import { ReplayOptionError, SandboxError, TraceNotReplayableError } from './errors.js';
import type { ReplayMiss, ResolvedOverride } from './hooks.js';
import { ON_MISS_POLICIES, type OnMissPolicy } from './on-miss.js';
import type { ResponseOverride } from './override.js';

export interface ReplayOptions {
  /** where the recorded trace is read from (may be read-only, e.g. the S3 archive) */
  store: EventStore;
  /** where the replay trace is written (default: `store`); required when `store` is read-only */
  replayStore?: EventStore;
  tenant: string;
  traceId: string;
  /** `path/to/agent.ts#export` (or just a path: the recorded export name, or a zero-code script); default: recorded */
  agent?: string;
  /** what a request the recording has no answer for does (default 'error') */
  onMiss?: OnMissPolicy;
  /** replay up to and including this event seq, then stop — or, with onMiss 'live', continue live from there */
  until?: number;
  /** a replacement LLM response: a path to a JSON file, or the object itself */
  override?: string | ResponseOverride;
  /** re-emit streamed chunks at once instead of with their recorded timing */
  fast?: boolean;
  /** kill the sandbox after this long (default 60 s) */
  timeoutMs?: number;
  /** memory cap of the sandbox: resident memory (Buffers included) and V8 heap (default 512 MB) */
  memoryMb?: number;
  /** request-identity normalization; when given, recorded requests are re-keyed with it */
  normalization?: NormalizationOptions;
  /** where relative entries resolve when the recorded cwd does not exist (default process.cwd()) */
  cwd?: string;
  /** more paths the agent may read */
  allowRead?: readonly string[];
  /** variables for the sandboxed agent's process.env view, over the recorded ones (the sandbox process's own
   *  environment is fixed; names that configure a process are dropped with a warning) */
  env?: Record<string, string>;
  /** called with the sandbox pid right after it starts */
  onSpawn?: (pid: number) => void;
  /** the replayed agent's stdout (default: dropped) */
  onStdout?: (chunk: Buffer) => void;
  /**
   * start the sandbox as soon as the trace's first event says what it runs, while the rest of the trace is read and
   * its caches are built (default true); false: spawn it only when the job is ready, as before. Either way the sandbox
   * is the same process (src/replay/sandbox/launch.ts) and gets the same job.
   */
  prestart?: boolean;
  /** where pre-started sandboxes come from (a batch's pool, src/replay/sandbox/pool.ts); implies prestart */
  sandboxes?: SandboxSource;
}

export interface ReplayResult {
  replayTraceId: string;
  /** verdict, firstDivergence and diffReport are one comparison (src/replay/comparison.ts), computed once */
  verdict: ReplayVerdict;
  firstDivergence: ReplayDivergence | null;
  /** the src/diff report of the recording (up to `until` when the replay stopped there) vs the replay */
  diffReport: DiffReport;
  misses: ReplayMiss[];
  /** how the replayed agent ended: completed, failed (with its error), or stopped at `until` */
  outcome: 'completed' | 'failed' | 'stopped';
  error?: ErrorInfo;
  output?: unknown;
  /** connections the sandbox refused (a strict replay never lets one through) */
  refusedConnections: string[];
  /** the replay went live (onMiss 'live', or a fork after `until`) */
  wentLive: boolean;
  overrideServed: boolean;
  /** recorded nondeterministic values the replay never asked for, per source (the agent used fewer than recorded) */
  unusedValues: Record<string, number>;
}

/** The provider names of the recorded LLM calls. */
function providerNamesOf(events: readonly StoredEvent[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) if (e.type === 'llm_request') out.add(e.payload.provider);
  return out;
}

/** the project-relative paths the recorded run wrote (file_written), which replay reads from its overlay only */
function recordedWrites(events: readonly StoredEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    if (e.type !== 'file_written') continue;
    out.add(e.payload.path);
    if (e.payload.to !== undefined) out.add(e.payload.to);
  }
  return [...out];
}

async function readTrace(store: EventStore, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) events.push(e);
  return events;
}

/** Reads a trace, calling `onFirst` with its first event before the rest is read (the sandbox can start then). */
async function readTraceStarting(
  store: EventStore,
  tenant: string,
  traceId: string,
  onFirst: (first: StoredEvent) => void,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) {
    events.push(e);
    if (events.length === 1) onFirst(e);
  }
  return events;
}

/**
 * Placeholder credentials so SDKs construct without the real keys (which a replay never needs, nor sees): the credentials
 * of each provider the recording called (AWS's, Google's, Azure's…), under the variables the agent read (src/providers/).
 */
function placeholderEnv(
  events: readonly StoredEvent[],
  placeholderEnvFor: (providers: string[]) => Record<string, string>,
): Record<string, string> {
  return placeholderEnvFor([...providerNamesOf(events)]);
}

/**
 * What only the job needs (the providers' registry, the cache builder, the environment and override rules): loaded
 * after the sandbox was started, so its Node start overlaps with their loading (a CLI replay loads them once).
 */
function jobModules() {
  return Promise.all([
    import('../providers/index.js'),
    import('./cache/build.js'),
    import('./env.js'),
    import('./override.js'),
  ]).then(([providers, build, env, override]) => ({
    placeholderEnvFor: providers.placeholderEnvFor,
    buildReplayCache: build.buildReplayCache,
    providersOf: build.providersOf,
    replayEnvironment: env.replayEnvironment,
    resolveOverride: override.resolveOverride,
  }));
}

/** zero-code stdout kept per replay: the caller's RETRACE_STDOUT_LIMIT (never the trace's), as when recording */
function stdoutLimit(): number {
  const n = Number.parseInt(process.env.RETRACE_STDOUT_LIMIT ?? '', 10);
  return Number.isInteger(n) && n >= 0 ? n : 65_536;
}

/**
 * Re-executes a recorded agent run in the sandbox, answering from the recording, and stores the replay as a new
 * trace linked to the original (agent_started.replayOf). Divergence is the result, not an error; RetraceErrors are
 * thrown only when the replay could not run (bad input, unknown/corrupt trace, missing entry, sandbox failure).
 */
export async function replayTrace(options: ReplayOptions): Promise<ReplayResult> {
  const { store, tenant, traceId } = options;
  const target = options.replayStore ?? store;
  assertTenantId(tenant);
  assertTraceId(traceId);
  if (target.readOnly) {
    throw new ReadOnlyStoreError(
      `The store ${target.location} is read-only, so the replay cannot be stored as a new trace.`,
      'Pass a writable store for the replay (replayStore / --replay-store sqlite:PATH), or restore the trace first.',
    );
  }
  const onMiss = options.onMiss ?? 'error';
  if (!ON_MISS_POLICIES.includes(onMiss)) {
    throw new ReplayOptionError(
      `Unknown miss policy "${String(onMiss)}".`,
      'Use error (default), nearest or live.',
      'onMiss',
    );
  }
  const cwd = options.cwd ?? process.cwd();
  const denyPaths = [...storeFiles(store.location), ...storeFiles(target.location)];
  const memoryMb = options.memoryMb ?? 512;
  // what the sandbox runs and where: known from the first event, so the process can start while the rest is read
  let planned: Planned | undefined;
  let sandbox: Promise<StartedSandbox> | undefined;
  const plan = (first: StoredEvent): void => {
    if (first.type !== 'agent_started' || (options.prestart === false && !options.sandboxes)) return;
    try {
      planned = planOf(first as StoredEventOf<'agent_started'>, options, cwd);
    } catch {
      return; // e.g. no such entry: reported in its usual place, after the whole trace was read and checked
    }
    const { entry, readPaths, codeDir, nm, runCwd } = planned;
    const spec = {
      agentFile: entry.file,
      readPaths,
      denyPaths,
      codeDir,
      ...(nm ? { nodeModules: nm } : {}),
      cwd: runCwd,
      memoryMb,
      strict: onMiss !== 'live',
    };
    sandbox = options.sandboxes ? options.sandboxes.take(spec) : startSandbox(spec);
    // a failed start is reported by the launch below, which then starts its own
    sandbox.catch(() => undefined);
  };
  try {
    const events = await readTraceStarting(store, tenant, traceId, plan);
    return await replayRead(options, events, planned, sandbox, cwd, { target, onMiss, denyPaths, memoryMb });
  } finally {
    // a sandbox that was started and never given its job (an error before the launch): not left behind
    if (sandbox)
      void sandbox.then(
        (s) => (s.usable() ? s.dispose() : undefined),
        () => undefined,
      );
  }
}

/** What the sandbox runs and where (the entry, its folders, the working directory), from agent_started. */
function planOf(first: StoredEventOf<'agent_started'>, options: ReplayOptions, cwd: string): Planned {
  const entry = resolveEntry(first, options.agent, cwd);
  const codeDir = dirname(entry.file);
  const nm = nearestNodeModules(codeDir);
  const readPaths = [...(options.allowRead ?? [])];
  if (nm) readPaths.push(nm);
  readPaths.push(...agentRetraceCopy(codeDir));
  return { entry, codeDir, nm, readPaths, runCwd: replayCwd(first.payload.environment, cwd) };
}

interface Planned {
  entry: ResolvedEntry;
  codeDir: string;
  nm: string | undefined;
  readPaths: string[];
  runCwd: string;
}

async function replayRead(
  options: ReplayOptions,
  events: StoredEvent[],
  planned: Planned | undefined,
  sandbox: Promise<StartedSandbox> | undefined,
  cwd: string,
  ctx: { target: EventStore; onMiss: OnMissPolicy; denyPaths: string[]; memoryMb: number },
): Promise<ReplayResult> {
  const { tenant, traceId } = options;
  const { target, onMiss } = ctx;
  const started = events[0];
  if (started?.type !== 'agent_started') {
    throw new TraceNotReplayableError(
      `Trace "${traceId}" does not begin with agent_started, so there is nothing to re-run.`,
      "Replay a trace recorded by retrace's recorder.",
      'traceId',
    );
  }
  const { placeholderEnvFor, buildReplayCache, providersOf, replayEnvironment, resolveOverride } = await jobModules();
  const lastSeq = events[events.length - 1]?.seq ?? 0;
  if (
    options.until !== undefined &&
    (!Number.isInteger(options.until) || options.until < 0 || options.until > lastSeq)
  ) {
    throw new ReplayOptionError(
      `--until ${options.until} is outside the trace (events 0–${lastSeq}).`,
      'Give the seq of an event of the trace.',
      'until',
    );
  }
  const override: ResolvedOverride | undefined =
    options.override !== undefined ? resolveOverride(options.override, events) : undefined;
  const { entry, codeDir, nm, readPaths, runCwd } =
    planned ?? planOf(started as StoredEventOf<'agent_started'>, options, cwd);
  // the comparison engine loads while the sandbox starts and runs
  const comparison = import('./comparison.js');
  comparison.catch(() => undefined);
  const cache = buildReplayCache(events, options.normalization ? { normalization: options.normalization } : {});
  const replayTraceId = newTraceId();
  const replayOf = { traceId, ...(options.until !== undefined ? { until: options.until } : {}) };
  const stopAfter = options.until !== undefined && onMiss !== 'live' ? options.until : undefined;
  // the replay trace: appended by the parent only, in order, trimmed at `until` when the replay stops there
  let revision: number | 'no_stream' = 'no_stream';
  let appended = 0;
  const onAppend = async (batch: readonly NewEvent[]): Promise<AppendResult> => {
    let list = batch.map((e) => {
      if (e.type !== 'agent_started') return e;
      return { ...e, payload: { ...e.payload, agent: started.payload.agent, replayOf } } as NewEvent;
    });
    if (stopAfter !== undefined) list = list.slice(0, Math.max(0, stopAfter + 1 - appended));
    if (list.length === 0) return { nextExpectedRevision: typeof revision === 'number' ? revision : -1, positions: [] };
    const result = await target.append(tenant, replayTraceId, list, { expectedRevision: revision });
    revision = result.nextExpectedRevision;
    appended += list.length;
    return result;
  };

  const misses: ReplayMiss[] = [];
  let wentLive = onMiss === 'live' && options.until === undefined;
  let overrideServed = false;
  let untilReached = false;
  const onMessage = (m: ChildMessage): void => {
    if (m.type !== 'notice') return;
    const n = m.notice;
    if (n.type === 'miss') {
      misses.push(n.miss as ReplayMiss);
      if (n.miss.policy === 'live') wentLive = true;
    } else if (n.type === 'forked') wentLive = true;
    else if (n.type === 'override-served') overrideServed = true;
    else if (n.type === 'until-reached') untilReached = true;
  };

  // the agent's view: exactly the variables it read while it was recorded (and the caller's overrides), nothing from
  // this host, over placeholder credentials of the providers it called; never the process's environment
  // (src/replay/env.ts, src/replay/sandbox/child-env.ts)
  const replayEnv = replayEnvironment(events, options.env ? { explicit: options.env } : {});
  const env = agentEnv(placeholderEnv(events, placeholderEnvFor), replayEnv.env);
  // retrace's own settings (RETRACE_STORE, …) are in every recorded environment: dropping them is routine, not news
  const dropped = [...new Set([...replayEnv.dropped, ...env.dropped])].filter((n) => !n.startsWith('RETRACE_')).sort();
  const warning = droppedEnvWarning(dropped, `trace ${traceId}`);
  if (warning) process.emitWarning(warning, { code: 'RETRACE_ENV_DROPPED' });
  let launched: Awaited<ReturnType<typeof launchSandbox>>;
  try {
    launched = await launchSandbox({
      job: {
        kind: entry.kind,
        file: entry.file,
        ...(entry.kind === 'api' ? { exportName: entry.exportName } : { args: entry.args }),
        input: started.payload.input,
        agent: started.payload.agent,
        entry: entry.entry,
        tenant,
        traceId: replayTraceId,
        replayOf,
        cache,
        onMiss,
        fast: options.fast ?? false,
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(override ? { override } : {}),
        ...(options.normalization ? { normalization: options.normalization } : {}),
        providers: providersOf(events),
        agentEnv: env.env,
        stdoutLimit: stdoutLimit(),
        recordedWrites: recordedWrites(events),
      },
      codeDir,
      readPaths,
      denyPaths: ctx.denyPaths,
      ...(nm ? { nodeModules: nm } : {}),
      cwd: runCwd,
      timeoutMs: options.timeoutMs ?? 60_000,
      memoryMb: ctx.memoryMb,
      ...(sandbox ? { sandbox } : {}),
      onAppend,
      onMessage,
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
      ...(options.onStdout ? { onStdout: options.onStdout } : {}),
    });
  } catch (err) {
    if (err instanceof SandboxError)
      Object.defineProperty(err, 'replayTraceId', { value: appended > 0 ? replayTraceId : undefined });
    throw err;
  }

  const replayEvents = appended > 0 ? await readTrace(target, tenant, replayTraceId) : [];
  const original = stopAfter !== undefined ? events.filter((e) => e.seq <= stopAfter) : events;
  const { compareReplay } = await comparison;
  const compared = await compareReplay(original, replayEvents, misses);
  const done = launched.done;
  const result: ReplayResult = {
    replayTraceId,
    verdict: compared.verdict,
    firstDivergence: compared.firstDivergence,
    diffReport: compared.report,
    misses,
    outcome: untilReached || (stopAfter !== undefined && appended > stopAfter) ? 'stopped' : done.outcome,
    refusedConnections: launched.netRefused,
    wentLive,
    overrideServed,
    unusedValues: done.remainingValues,
  };
  if (done.error)
    result.error = {
      name: done.error.name,
      message: done.error.message,
      ...(done.error.code ? { code: done.error.code } : {}),
    };
  if (done.output !== undefined) result.output = done.output;
  return result;
}
