import { randomUUID } from 'node:crypto';
import { isRetraceError } from '../errors.js';
import { replayTrace, type ReplayOptions } from '../replay/replay.js';
import type { EventStore } from '../store/types.js';
import type { ReplayJob, ReplayRequest } from './schemas.js';

export interface ReplayJobsOptions {
  store: EventStore;
  /** where replays are written when `store` is read-only (e.g. an S3 archive) */
  replayStore?: EventStore;
  /** where relative agent entries resolve when the recorded working directory is gone */
  cwd: string;
  /** kill a replay's sandbox after this long */
  timeoutMs?: number;
  /** at most this many replays at once (each is a child process) */
  concurrency?: number;
}

/**
 * Replay jobs started from the inspector: each runs the real replay engine (replayTrace: the agent's own code in the
 * sandbox, answered from the recording) in the background; the UI polls the job for progress and then opens the diff.
 * Progress is counted where the replay is written: a store wrapper sees every append of the replay trace.
 */
export class ReplayJobs {
  private readonly jobs = new Map<string, { tenant: string; job: ReplayJob }>();
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly options: ReplayJobsOptions) {}

  get(tenant: string, id: string): ReplayJob | undefined {
    const entry = this.jobs.get(id);
    return entry && entry.tenant === tenant ? entry.job : undefined;
  }

  /** Starts a replay; resolves once it is queued (the job is then polled). `of` is the recording's event count. */
  start(tenant: string, request: ReplayRequest, of: number): ReplayJob {
    const job: ReplayJob = {
      id: `job_${randomUUID()}`,
      request,
      state: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: { events: 0, of, phase: 'starting' },
      replayTraceId: null,
      verdict: null,
      outcome: null,
      firstDivergence: null,
      diff: null,
      error: null,
    };
    this.jobs.set(job.id, { tenant, job });
    if (this.jobs.size > 500) {
      // keep the newest; finished jobs stay readable until then
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined && oldest !== job.id) this.jobs.delete(oldest);
    }
    void this.whenFree(() => this.run(tenant, job));
    return job;
  }

  /** Waits for every job to end (for a clean shutdown and for tests). */
  async settle(): Promise<void> {
    while ([...this.jobs.values()].some((j) => j.job.state === 'running')) await new Promise((r) => setTimeout(r, 50));
  }

  private async whenFree(fn: () => Promise<void>): Promise<void> {
    const limit = this.options.concurrency ?? 2;
    if (this.running >= limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running += 1;
    try {
      await fn();
    } finally {
      this.running -= 1;
      this.queue.shift()?.();
    }
  }

  private counting(target: EventStore, job: ReplayJob): EventStore {
    // a Proxy keeps every other method of the backend as it is
    return new Proxy(target, {
      get(t, prop, receiver) {
        if (prop === 'append') {
          const append: EventStore['append'] = async (tenant, traceId, events, opts) => {
            job.replayTraceId = traceId;
            job.progress.phase = 'running';
            const result = await t.append(tenant, traceId, events, opts);
            job.progress.events += result.positions.length;
            return result;
          };
          return append;
        }
        const value: unknown = Reflect.get(t, prop, receiver);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  }

  private async run(tenant: string, job: ReplayJob): Promise<void> {
    const r = job.request;
    const { store } = this.options;
    const target = this.options.replayStore ?? store;
    const options: ReplayOptions = {
      store,
      replayStore: this.counting(target, job),
      tenant,
      traceId: r.traceId,
      fast: true,
      cwd: this.options.cwd,
      timeoutMs: this.options.timeoutMs ?? 120_000,
      ...(r.mode === 'until' ? { until: r.until } : {}),
      ...(r.mode === 'override'
        ? {
            override: {
              seq: r.seq,
              ...(r.body !== undefined ? { body: r.body } : {}),
              ...(r.chunks ? { chunks: r.chunks } : {}),
            },
            onMiss: r.onMiss,
          }
        : {}),
    };
    try {
      const result = await replayTrace(options);
      job.progress.phase = 'comparing';
      job.replayTraceId = result.replayTraceId;
      job.verdict = result.verdict;
      job.outcome = result.outcome;
      job.firstDivergence = result.firstDivergence?.message ?? null;
      job.diff = {
        a: r.traceId,
        b: result.replayTraceId,
        ...(r.mode === 'until' ? { untilA: r.until } : {}),
      };
      job.state = 'done';
    } catch (err) {
      job.state = 'failed';
      job.error = isRetraceError(err)
        ? { code: err.code, message: err.message, hint: err.hint }
        : { code: 'REPLAY_FAILED', message: err instanceof Error ? err.message : String(err), hint: '' };
      // a sandbox that failed after writing events still left a replay trace worth diffing
      if (job.replayTraceId) job.diff = { a: r.traceId, b: job.replayTraceId };
    } finally {
      job.progress.phase = 'done';
      job.finishedAt = new Date().toISOString();
    }
  }
}
