import { ValidationError } from '../errors.js';
import { createOtlpMirror, otlpMirrorOptionsFromEnv, type OtlpMirrorOptions } from '../otel/mirror.js';
import type { NewEvent } from '../events/envelope.js';
import { assertTenantId, assertTraceId, DEFAULT_TENANT } from '../events/ids.js';
import { DecisionMadeSchema, MemoryUpdatedSchema, type Environment, type PayloadInputOf } from '../events/payloads.js';
import {
  providerBaseUrlsFromEnv,
  toolArgsHash,
  type NormalizationOptions,
  type ProviderBaseUrl,
} from '../hashing/index.js';
import { openStore, sqlitePathOf } from '../store/open-store.js';
import type { AppendOptions, AppendResult, EventStore } from '../store/types.js';
import { currentRun, currentToolCall, internal, runStorage, setProcessRun, suppressed, ToolScope } from './context.js';
import { allowListedEnv, environment } from './environment.js';
import { acquireEnvCapture, ambientEnvReads } from './env-capture.js';
import { projectEntry } from './project-root.js';
import { isLauncherScript } from './wrapper-process.js';
import { trackRun, untrackRun } from './exit.js';
import type { EventSink, ReplayHooks, ToolAnswer } from './hooks.js';
import { acquireHttpCapture } from './http.js';
import { acquireHttp2Capture } from './http2.js';
import { acquireNondeterminismCapture } from './nondeterminism.js';
import { acquireFsCapture } from './fs-capture.js';
import { freshTraceId, originalPerformanceNow } from './originals.js';
import { loadPricing, type PricingInput } from './pricing.js';
import { redactEvent, type RedactHook } from './redact.js';
import { redactValue as redactArgs } from '../secrets/redact.js';
import { storedRequestHash } from '../hashing/stored-request.js';
import { RunState, type RunConfig, type SyncCapableSink } from './run.js';
import { errorFromInfo, errorInfo, toJsonSafe } from './serialize.js';
import { WorkerStoreSink } from './writer.js';

export interface RecorderOptions {
  /** an open EventStore, or a store URL (sqlite:PATH, kurrentdb://…); default $RETRACE_STORE or the embedded store */
  store?: EventStore | string;
  /** where events go instead of a store (the replay sandbox passes its IPC channel here) */
  sink?: EventSink;
  /** default $RETRACE_TENANT or "default" */
  tenant?: string;
  /** your own redaction, applied after the built-in rules to every event before it is written */
  redact?: RedactHook;
  /** the built-in redaction rules (headers, key shapes, credential fields); on unless set to false */
  redactDefaults?: boolean;
  /** extra prices merged over pricing/models.json (object or JSON file path), or false for no costs */
  pricing?: PricingInput;
  /** base URLs whose requests are LLM calls by path alone (the body shape is not checked), besides the ones
   *  recognised by shape and OPENAI_BASE_URL / ANTHROPIC_BASE_URL; a string means an OpenAI-compatible server */
  providers?: ReadonlyArray<string | ProviderBaseUrl>;
  /** base URLs (origin + path prefix) whose requests stay plain http_request events even when they look like LLM
   *  calls (LLM calls are recognised by path and body shape under any host) */
  excludeEndpoints?: readonly string[];
  /** request-identity normalization (src/hashing) */
  normalization?: NormalizationOptions;
  /** installed by the replay engine: answers HTTP, nondeterministic values and tools from a recording */
  hooks?: ReplayHooks;
  /** record Date/performance/Math.random/crypto values observed inside runs (default true) */
  captureNondeterminism?: boolean;
  /** record the environment variables the agent reads, first read of each (default true; secrets as present only) */
  captureEnvironment?: boolean;
  /** intercept fetch, node:http(s) and node:http2 (default true) */
  captureHttp?: boolean;
  /** record the files the agent writes under its working directory as file_written events (default true) */
  captureFiles?: boolean;
  /** how long queued events wait before a batch write (default 100 ms: fewer, larger batches, each one fsync'd commit;
   *  a crash loses at most this much). A store given as a sqlite: URL is written from a worker thread, so commits do
   *  not pause the agent; a store object is written on the agent's thread. */
  flushIntervalMs?: number;
  /** events per append (default 500) */
  maxBatchEvents?: number;
  /** how long the end of a run waits for responses still streaming (default 2000 ms) */
  pendingResponseTimeoutMs?: number;
  /** called once per run whose recording stopped because a write failed (default: a process warning) */
  onWriteError?: (error: unknown, info: { traceId: string; agent: string }) => void;
  /** also send each finished run as OTLP spans, in the background (default: $RETRACE_OTLP_ENDPOINT; false: never) */
  otlp?: OtlpMirrorOptions | false;
}

export interface RunOptions {
  agent: string;
  /** `path/to/module.js#exportName`, so replay can re-run the agent */
  entry?: string;
  input?: unknown;
  /** preset trace id (default: a fresh time-sortable id) */
  traceId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** set by the replay engine on the trace a replay produces */
  replayOf?: { traceId: string; until?: number };
}

export interface ToolOptions {
  /** a pure tool runs for real even in replay (its result only depends on its arguments) */
  pure?: boolean;
}

export type RecordedEventType = 'decision_made' | 'memory_updated';

export interface RunContext {
  readonly traceId: string;
  readonly agent: string;
  /** wraps a tool for this run (same as recorder.tool) */
  tool<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R | Promise<R>,
    options?: ToolOptions,
  ): (...args: A) => Promise<Awaited<R>>;
  /** records decision_made / memory_updated in this run */
  event<T extends RecordedEventType>(type: T, payload: PayloadInputOf<T>): void;
}

export interface RunResult<T> {
  output: T;
  traceId: string;
  /** set when the recording stopped early (store error); the agent's output is still returned */
  recordingError?: unknown;
}

export interface Recorder {
  readonly tenant: string;
  /** Runs `fn` as one recorded trace. Resolves once every event is durable; rethrows the agent's error unchanged. */
  run<T>(options: RunOptions, fn: (ctx: RunContext) => T | Promise<T>): Promise<RunResult<Awaited<T>>>;
  /** Wraps a tool: inside a run its calls become tool_call/tool_response; outside a run it just calls fn. */
  tool<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R | Promise<R>,
    options?: ToolOptions,
  ): (...args: A) => Promise<Awaited<R>>;
  /** Records decision_made / memory_updated in the active run (no-op outside a run). */
  event<T extends RecordedEventType>(type: T, payload: PayloadInputOf<T>): void;
  /** trace id of the run active in the caller's context */
  currentTraceId(): string | undefined;
  /** Uninstalls this recorder's interception (other recorders keep theirs); closes the store if it opened it. */
  close(): Promise<void>;
  /** @internal zero-code mode: starts the process-wide run */
  startProcessRun(options: RunOptions & { environment?: Partial<Environment> }): RunState;
}

/** A store the recorder opened itself from a URL: it closes it, and the OTLP mirror reads finished runs from it. */
interface OwnedStoreSink extends SyncCapableSink {
  storeForRead(): Promise<EventStore>;
  close(): Promise<void>;
}

/** The embedded store (sqlite:PATH) is written from a worker thread (writer.ts); other backends in-thread. */
function ownedStoreSink(url: string): OwnedStoreSink {
  const path = sqlitePathOf(url);
  // a URL naming no file keeps the in-thread path, whose openStore reports it
  if (path !== undefined && path !== '' && !path.includes('\0')) return new WorkerStoreSink(path);
  return new LazyStoreSink(url);
}

/** A sink over a store URL, opened on first use. */
class LazyStoreSink implements OwnedStoreSink {
  private store: EventStore | undefined;
  private opening: Promise<EventStore> | undefined;

  constructor(private readonly url: string) {}

  private open(): Promise<EventStore> {
    this.opening ??= openStore(this.url).then((s) => (this.store = s));
    return this.opening;
  }

  async append(
    tenantId: string,
    traceId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return (await this.open()).append(tenantId, traceId, events, options);
  }

  get appendSync(): SyncCapableSink['appendSync'] {
    const s = this.store as (EventStore & SyncCapableSink) | undefined;
    return s && typeof s.appendSync === 'function' ? s.appendSync.bind(s) : undefined;
  }

  /** the store, for reading a finished run back (the OTLP mirror) */
  storeForRead(): Promise<EventStore> {
    return this.open();
  }

  async close(): Promise<void> {
    if (this.opening) await (await this.opening).close();
  }
}

function defaultWriteWarning(error: unknown, info: { traceId: string }): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`retrace: recording of trace ${info.traceId} stopped: ${message}`, {
    code: 'RETRACE_RECORDING_FAILED',
  });
}

// installed when agent-retrace is imported, not when the recorder is created: a client built in between (the
// recorder created after the SDK client) read its configuration from the environment, and that read is an input of
// every run that follows (env-capture.ts). The proxy is transparent and stays for the life of the process — except
// in npm/npx, which the zero-code preload also reaches and which does not run with a proxied process.env.
if (!isLauncherScript(process.argv[1])) acquireEnvCapture();

const EVENT_SCHEMAS = { decision_made: DecisionMadeSchema, memory_updated: MemoryUpdatedSchema } as const;

export function createRecorder(options: RecorderOptions = {}): Recorder {
  const tenant = options.tenant ?? process.env.RETRACE_TENANT ?? DEFAULT_TENANT;
  assertTenantId(tenant);
  let lazy: OwnedStoreSink | undefined;
  let sink: SyncCapableSink;
  if (options.sink) sink = options.sink;
  else if (options.store !== undefined && typeof options.store !== 'string')
    sink = options.store as EventStore & SyncCapableSink;
  else sink = lazy = ownedStoreSink(options.store ?? process.env.RETRACE_STORE ?? 'sqlite:.retrace/retrace.db');

  const userRedact = options.redact;
  const defaults = options.redactDefaults !== false;
  const redact = (event: NewEvent, memory: Set<string>): NewEvent => {
    let e = event;
    let redactedMore = false;
    if (defaults) ({ event: e, byMemory: redactedMore } = redactEvent(event, memory));
    if (userRedact) {
      const r = userRedact(e);
      if (r && r !== e) {
        e = r;
        redactedMore = true;
      }
    }
    // the request key was taken after the per-event rules only (src/hashing/request-key.ts); when the run's memory or
    // the user's hook removed more, the stored hash is taken from what is stored, so it reveals nothing more
    if (redactedMore && (e.type === 'llm_request' || e.type === 'http_request')) {
      const requestHash = storedRequestHash(e, options.normalization);
      if (requestHash !== e.payload.requestHash) e = { ...e, payload: { ...e.payload, requestHash } } as NewEvent;
    }
    return e;
  };
  const providers: ProviderBaseUrl[] = [
    ...(options.providers ?? []).map((p) =>
      typeof p === 'string' ? { baseUrl: p, provider: 'openai-compatible' as const } : p,
    ),
    ...suppressed(() => providerBaseUrlsFromEnv()),
  ];
  const config: RunConfig = {
    sink,
    tenant,
    redact,
    pricing: loadPricing(options.pricing),
    providers,
    excludeEndpoints: options.excludeEndpoints ?? [],
    normalization: options.normalization ?? {},
    hooks: options.hooks,
    captureNondeterminism: options.captureNondeterminism !== false,
    captureEnvironment: options.captureEnvironment !== false,
    flushIntervalMs: options.flushIntervalMs ?? 100,
    maxBatchEvents: options.maxBatchEvents ?? 500,
    pendingResponseTimeoutMs: options.pendingResponseTimeoutMs ?? 2000,
    onWriteError: (error, run) =>
      (options.onWriteError ?? defaultWriteWarning)(error, { traceId: run.traceId, agent: run.agent }),
  };
  const mirrorOptions =
    options.otlp === false || options.hooks ? undefined : (options.otlp ?? otlpMirrorOptionsFromEnv());
  const storeObject = options.store !== undefined && typeof options.store !== 'string' ? options.store : undefined;
  const mirror = mirrorOptions
    ? createOtlpMirror(mirrorOptions, async () => (lazy ? lazy.storeForRead() : storeObject))
    : undefined;
  const releases: Array<() => void> = [];
  if (options.captureHttp !== false) releases.push(acquireHttpCapture(), acquireHttp2Capture());
  if (config.captureNondeterminism) releases.push(acquireNondeterminismCapture());
  if (options.captureFiles !== false) releases.push(acquireFsCapture());
  if (config.captureEnvironment) releases.push(acquireEnvCapture());
  let closed = false;

  function ensureOpen(): void {
    if (closed)
      throw new ValidationError(
        'This recorder was closed.',
        'Create a new recorder with createRecorder().',
        'recorder',
      );
  }

  function wrapTool<A extends unknown[], R>(
    bound: RunState | undefined,
    name: string,
    fn: (...args: A) => R | Promise<R>,
    toolOptions: ToolOptions = {},
  ) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new ValidationError(
        `Tool name ${JSON.stringify(name)} is not valid.`,
        'Give the tool a name of 1–200 characters.',
        'tool',
      );
    }
    if (typeof fn !== 'function')
      throw new ValidationError(`Tool "${name}" is not a function.`, 'Pass the function to wrap.', 'tool');
    const pure = toolOptions.pure === true;
    return async (...args: A): Promise<Awaited<R>> => {
      const run = bound?.active ? bound : currentRun();
      if (!run) return (await fn(...args)) as Awaited<R>;
      const argsValue: unknown = args.length === 1 ? args[0] : args;
      const started = originalPerformanceNow();
      // over the redacted JSON form of the arguments (what is stored), like the request key: the hash reveals nothing
      // the stored args do not, and a framework's context argument (an AbortSignal, class instances) cannot make it throw
      const argsHash = toolArgsHash(name, redactArgs(toJsonSafe(argsValue) ?? null));
      const occurrence = run.toolOccurrences.next(`${name}\u0000${argsHash}`);
      run.totals.toolCalls++;
      const callId = run.emit(
        'tool_call',
        { tool: name, args: toJsonSafe(argsValue) ?? null, argsHash, occurrence, ...(pure ? { pure } : {}) },
        currentToolCall(),
      );
      const latency = () => Math.max(0, Math.round((originalPerformanceNow() - started) * 1000) / 1000);
      // when the tool was called relative to the run: a replay releases concurrent tool answers in recorded order
      const startMs = Math.max(0, Math.round((started - run.startedAt) * 1000) / 1000);
      if (run.hooks) {
        const answer: ToolAnswer = await run.hooks.respondTool({
          tool: name,
          args: argsValue,
          argsHash,
          occurrence,
          pure,
        });
        if (answer !== 'run-live') {
          if ('error' in answer) {
            run.emit('tool_response', { tool: name, error: answer.error, latencyMs: latency(), startMs }, callId);
            throw errorFromInfo(answer.error);
          }
          run.emit(
            'tool_response',
            { tool: name, result: toJsonSafe(answer.result), latencyMs: latency(), startMs },
            callId,
          );
          return answer.result as Awaited<R>;
        }
      }
      try {
        const result = (await runStorage.run(new ToolScope(run, callId), () => fn(...args))) as Awaited<R>;
        run.emit('tool_response', { tool: name, result: toJsonSafe(result), latencyMs: latency(), startMs }, callId);
        return result;
      } catch (err) {
        run.emit('tool_response', { tool: name, error: errorInfo(err), latencyMs: latency(), startMs }, callId);
        throw err;
      }
    };
  }

  function recordEvent<T extends RecordedEventType>(
    run: RunState | undefined,
    type: T,
    payload: PayloadInputOf<T>,
  ): void {
    const schema = EVENT_SCHEMAS[type as RecordedEventType];
    if (!schema) {
      throw new ValidationError(
        `recorder.event() records decision_made or memory_updated, not ${JSON.stringify(type)}.`,
        'LLM, HTTP and tool events are recorded automatically; use recorder.tool() for tools.',
        'type',
      );
    }
    const snapshot = toJsonSafe(payload);
    const parsed = schema.safeParse(snapshot);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(
        `The ${type} payload is not valid at ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
        type === 'decision_made'
          ? 'Pass { decision: string, reason?: string, data?: unknown }.'
          : 'Pass { key: string, operation?: "set"|"append"|"delete"|"clear", value?: unknown }.',
        'payload',
        { cause: parsed.error },
      );
    }
    if (!run) return;
    run.emit(type, snapshot as PayloadInputOf<T>);
  }

  function newRun(runOptions: RunOptions, mode: 'api' | 'process', env?: Partial<Environment>): RunState {
    if (typeof runOptions?.agent !== 'string' || runOptions.agent.length === 0 || runOptions.agent.length > 200) {
      throw new ValidationError(
        `Agent name ${JSON.stringify(runOptions?.agent)} is not valid.`,
        'Pass run({ agent: "name" }, fn) with a name of 1–200 characters.',
        'agent',
      );
    }
    const traceId = runOptions.traceId ?? freshTraceId();
    assertTraceId(traceId);
    const run = new RunState(traceId, config, runOptions.agent);
    const located = runOptions.entry !== undefined ? projectEntry(runOptions.entry, process.cwd()) : undefined;
    const entry = located?.entry ?? runOptions.entry;
    run.emit('agent_started', {
      agent: runOptions.agent,
      ...(entry !== undefined ? { entry } : {}),
      mode,
      input: toJsonSafe(runOptions.input) ?? null,
      // the allow-listed env (provider base URLs, NODE_ENV, …) in API mode too: replay gives the agent the same values
      environment: environment({
        env: suppressed(() => allowListedEnv()),
        ...(located ? { projectRoot: located.root } : {}),
        ...env,
      }),
      ...(runOptions.replayOf ? { replayOf: runOptions.replayOf } : {}),
      ...(runOptions.tags ? { tags: runOptions.tags } : {}),
      ...(runOptions.metadata ? { metadata: toJsonSafe(runOptions.metadata) as Record<string, unknown> } : {}),
    });
    // variables read before the run started (clients built at module load) configured this run too
    if (config.captureEnvironment) for (const [name, read] of ambientEnvReads()) run.recordEnvRead(name, read);
    trackRun(run);
    return run;
  }

  const recorder: Recorder = {
    tenant,

    async run<T>(runOptions: RunOptions, fn: (ctx: RunContext) => T | Promise<T>): Promise<RunResult<Awaited<T>>> {
      ensureOpen();
      if (typeof fn !== 'function')
        throw new ValidationError(
          'run() needs the agent function.',
          'Call recorder.run({ agent }, async (ctx) => …).',
          'fn',
        );
      const run = newRun(runOptions, 'api');
      const ctx: RunContext = {
        traceId: run.traceId,
        agent: run.agent,
        tool: (name, toolFn, toolOptions) => wrapTool(run, name, toolFn, toolOptions),
        event: (type, payload) => recordEvent(run.active ? run : undefined, type, payload),
      };
      let output: Awaited<T>;
      try {
        output = await runStorage.run(run, () => fn(ctx));
      } catch (err) {
        await internal(() => run.finish({ type: 'agent_failed', error: errorInfo(err) }));
        untrackRun(run);
        mirror?.schedule(tenant, run.traceId);
        throw err;
      }
      await internal(() => run.finish({ type: 'agent_completed', output: toJsonSafe(output) ?? null }));
      untrackRun(run);
      mirror?.schedule(tenant, run.traceId);
      return {
        output,
        traceId: run.traceId,
        ...(run.writeError !== undefined ? { recordingError: run.writeError } : {}),
      };
    },

    tool(name, fn, toolOptions) {
      return wrapTool(undefined, name, fn, toolOptions);
    },

    event(type, payload) {
      recordEvent(currentRun(), type, payload);
    },

    currentTraceId() {
      return currentRun()?.traceId;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const release of releases.splice(0)) release();
      await mirror?.drain();
      await lazy?.close();
    },

    startProcessRun(runOptions) {
      ensureOpen();
      const { environment: env, ...rest } = runOptions;
      const run = newRun(rest, 'process', env);
      untrackRun(run); // the zero-code module ends it itself, with the exit code
      setProcessRun(run);
      return run;
    },
  };
  return recorder;
}
