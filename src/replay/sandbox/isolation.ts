import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The layers below JavaScript, where the platform has them (Linux): a network namespace of the sandbox's own
 * (`unshare --net`, or `unshare --user --map-root-user --net` for an unprivileged user), whose only interface is a
 * loopback that is down, so not one packet reaches the host or beyond whatever the agent's code does; and a parent-death
 * signal (`setpriv --pdeathsig KILL`), so the kernel kills the sandbox the moment the retrace process dies, by any
 * signal, SIGKILL included. Both wrappers exec the next program in place, so the sandbox keeps the pid the parent
 * forked and its IPC channel. What is available is probed once per process by running the wrappers on `true`.
 * Elsewhere (macOS, Windows, containers that forbid namespaces) the in-process guards (sandbox/guard.ts) and the
 * watchdog process (watchdog.ts) are what holds.
 */

export interface Isolation {
  /** argv prefix that wraps `node …` (empty: no wrapper) */
  wrapper: string[];
  /** the sandbox has no network at the OS level */
  network: 'namespace' | 'user-namespace' | 'none';
  /** the kernel kills the sandbox when its parent dies */
  parentDeath: 'pdeathsig' | 'none';
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function works(argv: string[]): boolean {
  const [cmd, ...args] = argv;
  if (!cmd) return false;
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 5_000, env: {} });
  return r.status === 0;
}

const probed = new Map<boolean, Isolation>();

/** What this machine offers; `network` false when the replay may go live (then no namespace: it needs the network). */
export function isolation(options: { network: boolean }): Isolation {
  const cached = probed.get(options.network);
  if (cached) return cached;
  const result: Isolation = { wrapper: [], network: 'none', parentDeath: 'none' };
  if (process.platform === 'linux') {
    const trueBin = which('true') ?? '/bin/true';
    const unshare = which('unshare');
    if (options.network && unshare) {
      for (const [flags, kind] of [
        [['--net'], 'namespace'],
        [['--user', '--map-root-user', '--net'], 'user-namespace'],
      ] as const) {
        if (works([unshare, ...flags, '--', trueBin])) {
          result.wrapper.push(unshare, ...flags, '--');
          result.network = kind;
          break;
        }
      }
    }
    const setpriv = which('setpriv');
    if (setpriv && works([setpriv, '--pdeathsig', 'KILL', '--', trueBin])) {
      result.wrapper.push(setpriv, '--pdeathsig', 'KILL', '--');
      result.parentDeath = 'pdeathsig';
    }
  }
  probed.set(options.network, result);
  return result;
}
