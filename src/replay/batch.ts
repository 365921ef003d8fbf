import { performance } from 'node:perf_hooks';
import { isRetraceError, type RetraceError } from '../errors.js';
import { ReplayOptionError, SandboxError } from './errors.js';
import { replayTrace, type ReplayOptions, type ReplayResult } from './replay.js';
import { SandboxPool } from './sandbox/pool.js';

export interface ReplayTracesOptions extends Omit<ReplayOptions, 'traceId' | 'onSpawn' | 'sandboxes'> {
  /** the traces to replay, in the order results are returned */
  traceIds: readonly string[];
  /** sandboxes at once (default 1) */
  concurrency?: number;
  /** called as each trace finishes (in completion order), e.g. for progress */
  onResult?: (outcome: TraceReplayOutcome) => void;
}

/** Why a trace could not be replayed to a verdict: the error's code, message and hint. */
export interface ReplayErrorInfo {
  code: string;
  name: string;
  message: string;
  hint: string | null;
}

/** One trace of a batch: replayed to a verdict (the ReplayResult), or not replayable (sandbox crash, bad entry…). */
export type TraceReplayOutcome =
  | { traceId: string; status: 'replayed'; result: ReplayResult; durationMs: number }
  | {
      traceId: string;
      status: 'error';
      error: ReplayErrorInfo;
      /** the replay trace stored before the failure, if the sandbox stored any event */
      replayTraceId: string | null;
      durationMs: number;
    };

/** A failure that stops the whole batch instead of failing one trace: the store itself is not usable. */
function isFatal(err: unknown): err is RetraceError {
  return isRetraceError(err) && err.exitCategory === 'environment' && !(err instanceof SandboxError);
}

function errorInfo(err: unknown): ReplayErrorInfo {
  return isRetraceError(err)
    ? { code: err.code, name: err.name, message: err.message, hint: err.hint || null }
    : {
        code: 'UNEXPECTED',
        name: err instanceof Error ? err.name : 'Error',
        message: err instanceof Error ? err.message : String(err),
        hint: null,
      };
}

async function replayOne(traceId: string, options: ReplayOptions): Promise<TraceReplayOutcome> {
  const t0 = performance.now();
  try {
    const result = await replayTrace({ ...options, traceId });
    return { traceId, status: 'replayed', result, durationMs: performance.now() - t0 };
  } catch (err) {
    if (isFatal(err)) throw err;
    const replayTraceId = (err as { replayTraceId?: unknown } | null)?.replayTraceId;
    return {
      traceId,
      status: 'error',
      error: errorInfo(err),
      replayTraceId: typeof replayTraceId === 'string' ? replayTraceId : null,
      durationMs: performance.now() - t0,
    };
  }
}

/**
 * Replays many traces with at most `concurrency` sandboxes at once: what `retrace ci` renders. A trace that cannot be
 * replayed is an outcome of its own (status 'error'), never a thrown error; a store failure (the environment, not a
 * sandbox) stops handing out traces, lets the running replays finish, then rethrows. Results come back in the order
 * of `traceIds`.
 */
export async function replayTraces(options: ReplayTracesOptions): Promise<TraceReplayOutcome[]> {
  const { traceIds, concurrency = 1, onResult, ...replayOptions } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ReplayOptionError(
      `The replay concurrency must be a whole number ≥ 1, got ${String(concurrency)}.`,
      'Pass concurrency: 1 (the default) or more.',
      'concurrency',
    );
  }
  const results = new Array<TraceReplayOutcome>(traceIds.length);
  let next = 0;
  let fatal: { err: unknown } | undefined;
  // the next traces' sandboxes start while these replay (src/replay/sandbox/pool.ts); each still runs one trace
  const pool = replayOptions.prestart === false ? undefined : new SandboxPool(concurrency);
  pool?.expect(traceIds.length);
  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < traceIds.length) {
      const i = next++;
      try {
        const outcome = await replayOne(traceIds[i]!, {
          ...replayOptions,
          traceId: traceIds[i]!,
          ...(pool ? { sandboxes: pool } : {}),
        });
        results[i] = outcome;
        onResult?.(outcome);
      } catch (err) {
        fatal ??= { err };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, traceIds.length) }, worker));
  } finally {
    await pool?.close();
  }
  if (fatal) throw fatal.err;
  return results;
}
