import type { RunState } from './run.js';
import { errorInfo } from './serialize.js';

/**
 * Process-exit durability: on normal exit, process.exit(), SIGINT and SIGTERM every run that still has
 * queued events is flushed synchronously (appendSync, the embedded store), and a run that never finished is ended
 * with agent_failed saying why. A SIGKILL or power loss cannot be caught: the trace stays unended and the store lists
 * it as `incomplete` once the writer pid is gone.
 *
 * Signal listeners are installed only while runs are active, and when ours is the only listener the signal is
 * re-raised after the flush, so the process dies exactly as it would have without the recorder.
 */
const runs = new Set<RunState>();
let lastUncaught: unknown;
let installed = false;
/** extra exit work (zero-code mode ends the process run here), run before the generic flush */
const exitHooks: Array<(code: number) => void> = [];

export function addExitHook(fn: (code: number) => void): void {
  exitHooks.push(fn);
  install();
}

function onUncaught(err: unknown): void {
  lastUncaught = err;
}

export function lastUncaughtError(): unknown {
  return lastUncaught;
}

function finishAllSync(why: () => { name: string; message: string; stack?: string; code?: string }): void {
  for (const run of [...runs]) {
    try {
      run.finishSync({ type: 'agent_failed', error: why() });
    } catch {
      // exit handlers must not throw
    }
    runs.delete(run);
  }
}

function onExit(code: number): void {
  for (const hook of exitHooks.splice(0)) {
    try {
      hook(code);
    } catch {
      // keep going: the other runs still need their flush
    }
  }
  finishAllSync(() =>
    lastUncaught !== undefined
      ? errorInfo(lastUncaught)
      : {
          name: 'ProcessExit',
          message: `The process exited (code ${code}) before the run finished.`,
          code: String(code),
        },
  );
}

function onSignal(signal: NodeJS.Signals): void {
  const alone = process.listenerCount(signal) === 1;
  if (!alone) {
    // someone else handles the signal (graceful shutdown): only make what we have durable
    for (const run of runs) run.flushSync();
    return;
  }
  for (const hook of exitHooks.splice(0)) {
    try {
      hook(signal === 'SIGINT' ? 130 : 143);
    } catch {
      // continue
    }
  }
  finishAllSync(() => ({
    name: 'Interrupted',
    message: `The process received ${signal} before the run finished.`,
    code: signal,
  }));
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtExceptionMonitor', onUncaught);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtExceptionMonitor', onUncaught);
}

export function trackRun(run: RunState): void {
  runs.add(run);
  install();
}

export function untrackRun(run: RunState): void {
  runs.delete(run);
  if (runs.size === 0 && exitHooks.length === 0) uninstall();
}
