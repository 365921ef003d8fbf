import { spawn } from 'node:child_process';

/**
 * A watchdog process for platforms where the kernel cannot kill the sandbox with its parent (no `setpriv
 * --pdeathsig`, see isolation.ts): a tiny node process, child of the retrace process and independent of both event
 * loops, that SIGKILLs the sandbox within ~250 ms of the retrace process dying (any signal, SIGKILL included: it
 * polls whether its parent still exists) or of the deadline passing, and ends when the sandbox has ended.
 */
const SCRIPT = `
const [parent, child, deadline] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
setInterval(() => {
  if (!alive(child)) process.exit(0);
  if (process.ppid !== parent || !alive(parent) || Date.now() > deadline) {
    try { process.kill(child, 'SIGKILL'); } catch {}
    process.exit(0);
  }
}, 250);
`;

/** Starts the watchdog for `child` (pid); the returned function stops it. */
export function startWatchdog(child: number, deadlineMs: number): () => void {
  const dog = spawn(process.execPath, ['-e', SCRIPT, String(process.pid), String(child), String(deadlineMs)], {
    stdio: 'ignore',
    env: {},
    windowsHide: true,
  });
  dog.on('error', () => {
    /* best effort: the parent's own timer and exit hook still hold */
  });
  dog.unref();
  return () => {
    if (dog.exitCode === null && dog.signalCode === null) dog.kill('SIGKILL');
  };
}
