import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * State that must be one per process even when several copies of agent-retrace are loaded: the user's project has its
 * own copy (its `createRecorder` and `recorder.tool`), and the `retrace` command that replays the run may come from
 * another (a global install, npx, a monorepo root). Both must see the same active run, and only one of them may patch
 * fetch, the clock and process.env — so the run context and the install counts live on a `Symbol.for` global, which
 * every copy of this module resolves to the same object (the same approach undici uses for its global dispatcher).
 * The version in the key changes when the shape below changes incompatibly.
 */
const KEY = Symbol.for('agent-retrace.shared.v1');

/** What every copy agrees on about a run object: enough for the context and the capture layers. */
export interface SharedRunLike {
  readonly active: boolean;
}

interface Capture {
  refs: number;
  release: (() => void) | undefined;
}

export interface SharedState {
  readonly runStorage: AsyncLocalStorage<unknown>;
  processRun: SharedRunLike | undefined;
  suppressDepth: number;
  readonly captures: Record<string, Capture>;
  /** environment variables read outside any run (env-capture.ts) */
  ambientEnv?: Map<string, unknown>;
}

type WithShared = typeof globalThis & { [KEY]?: SharedState };

function sharedState(): SharedState {
  const g = globalThis as WithShared;
  g[KEY] ??= { runStorage: new AsyncLocalStorage<unknown>(), processRun: undefined, suppressDepth: 0, captures: {} };
  return g[KEY];
}

export const shared: SharedState = sharedState();

/**
 * Installs a process-wide patch once across every copy of agent-retrace (ref-counted by name): the first acquirer's
 * `install` runs and returns its uninstall; later acquirers, from any copy, only count. Returns the release function.
 */
export function acquireShared(name: string, install: () => () => void): () => void {
  let capture = shared.captures[name];
  if (!capture) {
    capture = { refs: 0, release: undefined };
    shared.captures[name] = capture;
  }
  if (capture.refs++ === 0) {
    // installing a patch is retrace's own work: what the patched libraries read (msw's logger reads DEBUG) is not
    // the agent's
    shared.suppressDepth++;
    try {
      capture.release = install();
    } finally {
      shared.suppressDepth--;
    }
  }
  let released = false;
  const owned = capture;
  return () => {
    if (released) return;
    released = true;
    if (--owned.refs === 0) {
      const release = owned.release;
      owned.release = undefined;
      release?.();
    }
  };
}
