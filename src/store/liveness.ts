import { hostname } from 'node:os';
import type { TraceStatus } from './types.js';

/**
 * A trace that never ended is `running` while its writer lives and `incomplete` once the writer is gone (crash,
 * SIGKILL, power loss). Same host: ask the OS whether the writer pid is alive. Other hosts: we cannot ask, so a trace
 * silent for longer than STALE_AFTER_MS is called incomplete.
 */
export const STALE_AFTER_MS = 6 * 60 * 60 * 1000;
const HOST = hostname();

export function writerIdentity(): { pid: number; host: string } {
  return { pid: process.pid, host: HOST };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function deriveStatus(
  stored: 'running' | 'completed' | 'failed',
  writer: { pid: number | null; host: string | null; updatedAt: string },
  now = Date.now(),
): TraceStatus {
  if (stored !== 'running') return stored;
  if (writer.pid !== null && writer.host === HOST) return pidAlive(writer.pid) ? 'running' : 'incomplete';
  return now - Date.parse(writer.updatedAt) > STALE_AFTER_MS ? 'incomplete' : 'running';
}
