import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * The sandbox's memory cap on resident memory, not only the V8 heap: Buffers, typed arrays and native allocations
 * live outside `--max-old-space-size`. The parent polls the child's RSS — /proc/PID/status on Linux, `ps` on macOS —
 * from its own event loop, so an agent that blocks its loop cannot stop the check. Windows has neither: there only
 * the V8 heap cap holds.
 */

async function rssKb(pid: number): Promise<number | undefined> {
  if (process.platform === 'linux') {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }
  if (process.platform === 'darwin' || process.platform === 'freebsd') {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'rss=', '-p', String(pid)], { timeout: 2_000 }, (err, stdout) => {
        const n = Number.parseInt(stdout.trim(), 10);
        resolve(err || !Number.isFinite(n) ? undefined : n);
      });
    });
  }
  return undefined;
}

export interface RssWatch {
  stop(): void;
  /** the highest RSS seen, in MB */
  readonly peakMb: number;
}

/** Calls onExceed once when the RSS of pid goes over limitMb. */
export function watchRss(pid: number, limitMb: number, onExceed: (rssMb: number) => void): RssWatch {
  const everyMs = process.platform === 'linux' ? 100 : 500;
  let peak = 0;
  let stopped = false;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    busy = true;
    const kb = await rssKb(pid);
    busy = false;
    if (kb === undefined || stopped) return;
    const mb = kb / 1024;
    peak = Math.max(peak, mb);
    if (mb > limitMb) {
      stopped = true;
      clearInterval(timer);
      onExceed(mb);
    }
  }, everyMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    get peakMb() {
      return peak;
    },
  };
}
