import { sandboxSpecKey, startSandbox, type SandboxSpec, type StartedSandbox } from './launch.js';

/**
 * Pre-started sandboxes for a batch of replays (`retrace ci`, replay.ts's batch): while one trace replays, the next
 * one's sandbox is already past Node's start and the runtime's imports, waiting for its job. Fidelity rules:
 *   - a sandbox is handed out only for a spec with the same key as the one it was started from (launch.ts's
 *     `sandboxSpecKey`: command line, environment, working directory — the same process a fresh spawn would be);
 *     a take for another spec starts one for that spec;
 *   - each sandbox runs exactly one job (launch.ts refuses a second), then is killed and its temp dir removed;
 *   - nothing of a trace reaches a sandbox before its job: the runtime only loads retrace's own modules meanwhile.
 * The next sandbox is started for the spec just taken (the traces of one run mostly share their agent), and only
 * while more takes are expected, so the end of a batch leaves nothing idle behind.
 */

export interface SandboxSource {
  /** a started sandbox for exactly this spec: a pre-started one when there is one, else one started now */
  take(spec: SandboxSpec): Promise<StartedSandbox>;
}

interface Idle {
  key: string;
  sandbox: Promise<StartedSandbox>;
}

export class SandboxPool implements SandboxSource {
  private readonly idle: Idle[] = [];
  private expected = 0;
  private closed = false;

  /** @param size how many sandboxes wait at most (e.g. the batch's concurrency) */
  constructor(private readonly size: number) {}

  /** how many more takes the caller expects; sandboxes are pre-started only for those */
  expect(takes: number): void {
    this.expected = Math.max(0, takes);
  }

  take(spec: SandboxSpec): Promise<StartedSandbox> {
    const key = sandboxSpecKey(spec);
    this.expected = Math.max(0, this.expected - 1);
    const i = this.idle.findIndex((e) => e.key === key);
    const taken = i >= 0 ? this.idle.splice(i, 1)[0]!.sandbox : startSandbox(spec);
    this.refill(spec, key);
    // one that died or misbehaved while it waited is replaced by a fresh start
    return taken.then(
      async (s) => {
        if (s.usable()) return s;
        await s.dispose();
        return startSandbox(spec);
      },
      () => startSandbox(spec),
    );
  }

  private refill(spec: SandboxSpec, key: string): void {
    if (this.closed) return;
    while (this.idle.length > 0 && this.idle.length >= this.size) {
      // make room: the oldest one of another spec first, else the oldest
      const j = this.idle.findIndex((e) => e.key !== key);
      const [old] = this.idle.splice(Math.max(j, 0), 1);
      if (old)
        void old.sandbox.then(
          (s) => s.dispose(),
          () => undefined,
        );
    }
    const waiting = this.idle.filter((e) => e.key === key).length;
    if (waiting >= Math.min(this.size, this.expected)) return;
    const sandbox = startSandbox(spec);
    sandbox.catch(() => undefined); // a failed pre-start is retried by the take that needs it
    this.idle.push({ key, sandbox });
  }

  /** the sandboxes waiting now (started or starting) */
  async waiting(): Promise<StartedSandbox[]> {
    const settled = await Promise.allSettled(this.idle.map((e) => e.sandbox));
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** kills every sandbox still waiting */
  async close(): Promise<void> {
    this.closed = true;
    const all = this.idle.splice(0);
    await Promise.all(
      all.map((e) =>
        e.sandbox.then(
          (s) => s.dispose(),
          () => undefined,
        ),
      ),
    );
  }
}
