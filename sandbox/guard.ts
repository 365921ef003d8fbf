import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import workerThreads from 'node:worker_threads';

/**
 * Network refusal inside the sandbox: Node 20–24's permission model has no network restriction,
 * so every way out is patched here before any agent code loads — net.Socket#connect (which net.connect,
 * net.createConnection, tls.connect, http/https agents and undici all end in), dgram and http2. The IPC channel to
 * the parent is a pipe handed over at fork time and never goes through connect, so it needs no exception.
 * `allow()` opens the network for the live policy / a fork after `until`.
 * Worker threads are refused the same way: the permission model has to allow them when tsx's loader runs off-thread
 * (Node 20's module.register), and workers do not inherit the permission model (nodejs/node#62222).
 * Child processes likewise, when the permission model had to allow them for tsx (esbuild runs as a child process of
 * tsx's loader thread, which has its own copy of node:child_process and so is not affected by this patch).
 * This is a seat belt for honest agents, not a wall against hostile code.
 */

export interface NetworkGuard {
  allow(): void;
  readonly allowed: boolean;
}

export function accessDenied(what: string, permission: string, resource: string): Error {
  return Object.assign(new Error(`Access to this API has been restricted: ${what} (retrace sandbox)`), {
    code: 'ERR_ACCESS_DENIED',
    permission,
    resource,
  });
}

function describeTarget(args: unknown[]): string {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: unknown; port?: unknown; path?: unknown };
    if (typeof o.path === 'string') return o.path;
    return `${typeof o.host === 'string' ? o.host : 'localhost'}:${String(o.port ?? '?')}`;
  }
  if (typeof first === 'number') return `${typeof args[1] === 'string' ? args[1] : 'localhost'}:${first}`;
  return String(first);
}

export function installNetworkGuard(
  onRefused: (target: string) => void,
  options: { refuseWorkers: boolean; refuseChildProcesses: boolean },
): NetworkGuard {
  let allowed = false;
  const proto = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => unknown };
  const originalConnect = proto.connect;
  proto.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): unknown {
    if (allowed) return originalConnect.apply(this, args);
    const target = describeTarget(args);
    onRefused(target);
    const err = accessDenied(`network connection to ${target} refused in a strict replay`, 'Network', target);
    process.nextTick(() => this.destroy(err));
    return this;
  };

  const originalCreateSocket = dgram.createSocket;
  (dgram as { createSocket: unknown }).createSocket = function guardedCreateSocket(...args: unknown[]): unknown {
    if (allowed) return (originalCreateSocket as (...a: unknown[]) => unknown)(...args);
    onRefused('udp');
    throw accessDenied('UDP sockets are refused in a strict replay', 'Network', 'udp');
  };
  const originalHttp2Connect = http2.connect;
  (http2 as { connect: unknown }).connect = function guardedHttp2Connect(...args: unknown[]): unknown {
    if (allowed) return (originalHttp2Connect as (...a: unknown[]) => unknown)(...args);
    const target = String(args[0]);
    onRefused(target);
    throw accessDenied(`HTTP/2 connection to ${target} refused in a strict replay`, 'Network', target);
  };
  if (options.refuseWorkers) {
    class RefusedWorker {
      constructor() {
        throw accessDenied('worker threads are refused in the replay sandbox', 'WorkerThreads', '');
      }
    }
    (workerThreads as { Worker: unknown }).Worker = RefusedWorker;
  }
  if (options.refuseChildProcesses) {
    const cp = childProcess as unknown as Record<string, unknown>;
    for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
      cp[name] = () => {
        throw accessDenied(`child_process.${name} is refused in the replay sandbox`, 'ChildProcess', '');
      };
    }
  }
  syncBuiltinESMExports();
  return {
    allow() {
      allowed = true;
    },
    get allowed() {
      return allowed;
    },
  };
}
