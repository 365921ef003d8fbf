import type { AsyncLocalStorage } from 'node:async_hooks';
import type { RunState } from './run.js';
import { shared } from './shared.js';

/**
 * Which run is active: AsyncLocalStorage carries the RunState through every await, timer and callback the agent
 * creates, so 20 concurrent runs in one process never mix. The recorder's own background work (flushes, reading
 * response clones) runs under the INTERNAL marker, so nothing it does is attributed to a run — in particular its
 * clock and uuid use is never recorded as the agent's nondeterminism. In zero-code mode one process-wide run catches
 * everything that is not inside an explicit run.
 */
export const INTERNAL: unique symbol = Symbol.for('agent-retrace.internal');

/** marks a NetworkScope for every copy of this module (instanceof would only match this copy's class) */
const NETWORK_SCOPE = Symbol.for('agent-retrace.network-scope');

/**
 * The HTTP machinery one fetch() call of `run` sets in motion (undici, a replay's respondHttp): still that run's, but
 * clock and random reads made there are the network layer's, not the agent's (see inNetworkLayer). Carried by the same
 * AsyncLocalStorage as the run: on Node 20 every enabled AsyncLocalStorage adds its own work to every promise the
 * process creates, so there is exactly one.
 */
export class NetworkScope {
  readonly [NETWORK_SCOPE] = true;
  constructor(
    readonly run: RunState,
    /** the tool call whose code made the fetch() call, if any */
    readonly toolCallId?: string,
  ) {}
}

function isNetworkScope(value: unknown): value is NetworkScope {
  return (
    typeof value === 'object' && value !== null && (value as { [NETWORK_SCOPE]?: boolean })[NETWORK_SCOPE] === true
  );
}

const TOOL_SCOPE = Symbol.for('agent-retrace.tool-scope');

/**
 * The code of a tool wrapped with recorder.tool(), running as part of `run`: what it records (its own HTTP, LLM calls,
 * nested tools) names the tool_call as its parent, so a replay that answers the tool from the recording knows those
 * events belong to the answer and are not expected again (src/replay/comparison.ts).
 */
export class ToolScope {
  readonly [TOOL_SCOPE] = true;
  constructor(
    readonly run: RunState,
    readonly callId: string,
  ) {}
}

function isToolScope(value: unknown): value is ToolScope {
  return typeof value === 'object' && value !== null && (value as { [TOOL_SCOPE]?: boolean })[TOOL_SCOPE] === true;
}

/** One per process, shared by every copy of agent-retrace (see shared.ts). */
export const runStorage = shared.runStorage as AsyncLocalStorage<RunState | NetworkScope | ToolScope | typeof INTERNAL>;

/** The tool call whose code is running now (also inside the network layer of its fetch calls), if any. */
export function currentToolCall(): string | undefined {
  const store = runStorage.getStore();
  if (isToolScope(store)) return store.callId;
  if (isNetworkScope(store)) return store.toolCallId;
  return undefined;
}

export function setProcessRun(run: RunState | undefined): void {
  shared.processRun = run;
}

export function getProcessRun(): RunState | undefined {
  return shared.processRun as RunState | undefined;
}

/** The run the current code belongs to, or undefined (outside any run, inside the recorder, or after the run ended). */
export function currentRun(): RunState | undefined {
  if (shared.suppressDepth > 0) return undefined;
  const store = runStorage.getStore();
  if (store === INTERNAL) return undefined;
  if (store !== undefined) {
    const run = isNetworkScope(store) || isToolScope(store) ? store.run : store;
    return run.active ? run : undefined;
  }
  const processRun = getProcessRun();
  return processRun?.active ? processRun : undefined;
}

/**
 * True inside the HTTP machinery a fetch() call sets in motion (interceptor, undici, a replay's respondHttp). Clock
 * and random reads made there are the network layer's, not the agent's: a replay answers from the recording without
 * running that layer, so recording them would shift every later value the agent is served.
 */
export function inNetworkLayer(): boolean {
  return isNetworkScope(runStorage.getStore());
}

/** The run whose agent code is running now: currentRun(), except inside the network layer. */
export function agentRun(): RunState | undefined {
  if (shared.suppressDepth > 0) return undefined;
  const store = runStorage.getStore();
  if (store === INTERNAL || isNetworkScope(store)) return undefined;
  if (store !== undefined) {
    const run = isToolScope(store) ? store.run : store;
    return run.active ? run : undefined;
  }
  const processRun = getProcessRun();
  return processRun?.active ? processRun : undefined;
}

/** Runs fn as the network layer of a fetch() call made by `run`. */
export function inNetwork<T>(run: RunState, fn: () => T): T {
  return runStorage.run(new NetworkScope(run, currentToolCall()), fn);
}

/** Runs fn (and every async continuation it creates) outside of any run. */
export function internal<T>(fn: () => T): T {
  return runStorage.run(INTERNAL, fn);
}

/** Synchronous section in which nothing is attributed to a run (library code the recorder calls into). */
export function suppressed<T>(fn: () => T): T {
  shared.suppressDepth++;
  try {
    return fn();
  } finally {
    shared.suppressDepth--;
  }
}
