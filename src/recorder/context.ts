import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunState } from './run.js';

/**
 * Which run is active: AsyncLocalStorage carries the RunState through every await, timer and callback the agent
 * creates, so 20 concurrent runs in one process never mix. The recorder's own background work (flushes, reading
 * response clones) runs under the INTERNAL marker, so nothing it does is attributed to a run — in particular its
 * clock and uuid use is never recorded as the agent's nondeterminism. In zero-code mode one process-wide run catches
 * everything that is not inside an explicit run.
 */
export const INTERNAL: unique symbol = Symbol('retrace.internal');
export const runStorage = new AsyncLocalStorage<RunState | typeof INTERNAL>();

let processRun: RunState | undefined;
let suppressDepth = 0;

export function setProcessRun(run: RunState | undefined): void {
  processRun = run;
}

export function getProcessRun(): RunState | undefined {
  return processRun;
}

/** The run the current code belongs to, or undefined (outside any run, inside the recorder, or after the run ended). */
export function currentRun(): RunState | undefined {
  if (suppressDepth > 0) return undefined;
  const store = runStorage.getStore();
  if (store === INTERNAL) return undefined;
  if (store !== undefined) return store.active ? store : undefined;
  return processRun?.active ? processRun : undefined;
}

/** Runs fn (and every async continuation it creates) outside of any run. */
export function internal<T>(fn: () => T): T {
  return runStorage.run(INTERNAL, fn);
}

/** Synchronous section in which nothing is attributed to a run (library code the recorder calls into). */
export function suppressed<T>(fn: () => T): T {
  suppressDepth++;
  try {
    return fn();
  } finally {
    suppressDepth--;
  }
}
