import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import http2 from 'node:http2';
import inspector from 'node:inspector';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import workerThreads from 'node:worker_threads';

/**
 * Every way out of the sandbox, refused in JavaScript before any agent code loads. Node 20–24's permission model has
 * no network restriction, so this is the layer that holds on every platform; on Linux a network namespace sits below
 * it (src/replay/sandbox/isolation.ts). Covered: TCP/TLS/unix connects (net.Socket#connect, where net.connect,
 * tls.connect, http/https agents, undici, fetch and WebSocket all end), listening for inbound connections
 * (net.Server#listen, under http/https/tls/http2 servers), UDP (dgram, factory, constructor and sockets reached any
 * other way), DNS (dns and dns/promises, module functions and Resolver), HTTP/2 client sessions, the inspector, the
 * raw bindings, signals to other processes, worker threads and child processes. The IPC channel to the parent is a
 * file descriptor handed over at spawn time and never goes through connect. `allow()` opens the network for the live
 * policy / a fork after `until`; nothing else is ever opened. Each refusal is reported through `onRefused` (the
 * replay's refusedConnections) and surfaces to the agent as ERR_ACCESS_DENIED, as Node's own refusals do.
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

type Fn = (...args: unknown[]) => unknown;

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

const DNS_METHODS = [
  'lookup',
  'lookupService',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTxt',
  'reverse',
] as const;

export function installNetworkGuard(onRefused: (target: string) => void): NetworkGuard {
  let allowed = false;
  const refuse = (target: string, what: string): Error => {
    onRefused(target);
    return accessDenied(`${what} refused in a strict replay`, 'Network', target);
  };
  /** wraps `owner[name]` so it runs only once the network is allowed; `refused` decides how a refusal surfaces */
  const gate = (
    owner: object,
    name: string,
    refused: (self: unknown, args: unknown[], original: Fn) => unknown,
  ): void => {
    const o = owner as Record<string, unknown>;
    const original = o[name];
    if (typeof original !== 'function') return;
    o[name] = function guarded(this: unknown, ...args: unknown[]): unknown {
      if (allowed) return (original as Fn).apply(this, args);
      return refused(this, args, original as Fn);
    };
  };

  // TCP, TLS, unix sockets: everything ends in net.Socket#connect
  gate(net.Socket.prototype, 'connect', (self, args) => {
    const target = describeTarget(args);
    const err = refuse(target, `network connection to ${target}`);
    process.nextTick(() => (self as net.Socket).destroy(err));
    return self;
  });
  // inbound: every server (net, http, https, tls, http2) listens through net.Server#listen
  gate(net.Server.prototype, 'listen', (self, args) => {
    const target = `listen ${describeTarget(args.length > 0 ? args : [0])}`;
    const err = refuse(target, `listening for connections (${target})`);
    process.nextTick(() => (self as net.Server).emit('error', err));
    return self;
  });

  // UDP: the factory, the constructor, and any socket reached another way
  const udpRefusal = (): never => {
    throw refuse('udp', 'UDP sockets are');
  };
  gate(dgram, 'createSocket', udpRefusal);
  const OriginalDgramSocket = dgram.Socket;
  function RefusedDgramSocket(this: unknown, ...args: unknown[]): unknown {
    if (allowed) return Reflect.construct(OriginalDgramSocket, args, new.target ?? OriginalDgramSocket);
    return udpRefusal();
  }
  RefusedDgramSocket.prototype = OriginalDgramSocket.prototype;
  (dgram as { Socket: unknown }).Socket = RefusedDgramSocket;
  for (const method of ['send', 'bind', 'connect', 'addMembership', 'setBroadcast'])
    gate(OriginalDgramSocket.prototype, method, () => {
      throw refuse(`udp ${method}`, `UDP ${method}`);
    });

  // DNS: callback API, Resolver, promises API and its Resolver (dns/promises is the same object as dns.promises)
  const dnsTarget = (args: unknown[]): string => `dns ${typeof args[0] === 'string' ? args[0] : '?'}`;
  const callbackRefusal = (_self: unknown, args: unknown[]): undefined => {
    const err = refuse(dnsTarget(args), `DNS query for ${String(args[0])}`);
    const cb = args.findLast((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
    if (cb) process.nextTick(() => cb(err));
    else throw err;
    return undefined;
  };
  const promiseRefusal = (_self: unknown, args: unknown[]): Promise<never> =>
    Promise.reject(refuse(dnsTarget(args), `DNS query for ${String(args[0])}`));
  for (const m of DNS_METHODS) {
    gate(dns, m, callbackRefusal);
    gate(dns.Resolver.prototype, m, callbackRefusal);
    gate(dns.promises, m, promiseRefusal);
    gate(dns.promises.Resolver.prototype, m, promiseRefusal);
  }

  // HTTP/2 client sessions. A replay of recorded HTTP/2 answers, where one exists, is installed before this hook.
  gate(http2, 'connect', (_self, args) => {
    const target = String(args[0]);
    throw refuse(target, `HTTP/2 connection to ${target}`);
  });

  // WebSocket / EventSource globals (Node 22+): their connections would be refused below; refuse them by name here
  for (const name of ['WebSocket', 'EventSource'] as const) {
    const g = globalThis as Record<string, unknown>;
    const Original = g[name] as (new (...a: unknown[]) => object) | undefined;
    if (typeof Original !== 'function') continue;
    g[name] = new Proxy(Original, {
      construct(target, args, newTarget) {
        if (!allowed) throw refuse(String(args[0]), `${name} connection to ${String(args[0])}`);
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }

  // never opened, not even for a live replay: none of these is a network call an agent's replay needs
  const never = (what: string, permission: string) => () => {
    throw accessDenied(`${what} is refused in the replay sandbox`, permission, '');
  };
  (inspector as { open: unknown }).open = never('inspector.open', 'Inspector');
  const session = inspector.Session.prototype as unknown as Record<string, unknown>;
  session.connect = never('inspector.Session#connect', 'Inspector');
  session.connectToMainThread = never('inspector.Session#connectToMainThread', 'Inspector');
  const proc = process as unknown as Record<string, unknown>;
  proc.binding = never('process.binding', 'Binding');
  proc._linkedBinding = never('process._linkedBinding', 'Binding');
  proc.dlopen = never('process.dlopen', 'Addons');
  // signals: the sandbox may signal itself, nothing else (not the parent, not its process group)
  for (const name of ['kill', '_kill'] as const) {
    const original = proc[name];
    if (typeof original !== 'function') continue;
    proc[name] = function guardedKill(this: unknown, pid: unknown, ...rest: unknown[]): unknown {
      if (Number(pid) === process.pid) return (original as Fn).call(this, pid, ...rest);
      throw accessDenied(`process.kill(${String(pid)}) is refused in the replay sandbox`, 'Signal', String(pid));
    };
  }
  class RefusedWorker {
    constructor() {
      throw accessDenied('worker threads are refused in the replay sandbox', 'WorkerThreads', '');
    }
  }
  (workerThreads as { Worker: unknown }).Worker = RefusedWorker;
  const cp = childProcess as unknown as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    cp[name] = never(`child_process.${name}`, 'ChildProcess');
  }
  const ChildProcessProto = childProcess.ChildProcess.prototype as unknown as Record<string, unknown>;
  ChildProcessProto.spawn = never('ChildProcess#spawn', 'ChildProcess');
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
