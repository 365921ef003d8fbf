import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/envelope.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, ROOT, seed, tempStore } from './cli-harness.js';

/**
 * One test per attack on the replay sandbox, each through the built CLI and each watched from outside the sandbox:
 * a UDP and a TCP listener of the test's own that must receive nothing, marker files that must not exist, `ps` that
 * must show no sandbox left behind, resident memory read from /proc. Every agent runs from a project folder of its
 * own (a copy of test/cli/agents/), so its sandbox process can be found by that folder's path in `ps`.
 */

const AGENTS = resolve(ROOT, 'test', 'cli', 'agents');
const linux = process.platform === 'linux';
const tmp = tempStore('retrace.db');
const env = { RETRACE_STORE: tmp.url };

let udp: dgram.Socket;
let tcp: net.Server;
const udpReceived: string[] = [];
let tcpConnections = 0;
let udpPort = 0;
let tcpPort = 0;
let projects = 0;

/** A project folder holding the attack agents (and whatever data the test plants next to them). */
function project(): string {
  const dir = join(tmp.dir, `project-${++projects}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['attacks.mjs', 'spawn-host.ts', 'forge-journal.mjs']) copyFileSync(join(AGENTS, f), join(dir, f));
  return dir;
}

/** Sandbox processes still running for a project folder (their command line names its path). */
function sandboxesOf(dir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`--allow-fs-read=${dir}`) && !l.includes('ps -eo'))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}

async function trace(input: unknown, tenant = 'default', mutate?: (events: NewEvent[]) => void): Promise<string> {
  const b = new TraceBuilder('attack', { input }).complete();
  mutate?.(b.events);
  const id = `tr-attack-${projects}-${Math.random().toString(36).slice(2, 8)}`;
  await seed(tmp.url, { [id]: b.events }, tenant);
  return id;
}

interface ReplayJson {
  outcome: string;
  output?: Record<string, { ok: boolean; code?: string; value?: unknown }> & Record<string, unknown>;
  refusedConnections: string[];
  error?: { name: string; message: string; code?: string };
}

async function replay(id: string, agent: string, extra: string[] = [], extraEnv: Record<string, string> = {}) {
  const r = await retrace(['replay', id, '--agent', agent, '--fast', '--json', ...extra], { ...env, ...extraEnv });
  return { ...r, json: r.code === 0 ? (JSON.parse(r.stdout) as ReplayJson) : undefined };
}

beforeAll(async () => {
  udp = dgram.createSocket('udp4');
  udp.on('message', (m) => udpReceived.push(m.toString('latin1')));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  udpPort = udp.address().port;
  tcp = net.createServer((c) => {
    tcpConnections += 1;
    c.destroy();
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  tcpPort = (tcp.address() as net.AddressInfo).port;
  await ensureBuilt();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  udp.close();
  await new Promise((r) => tcp.close(r));
  tmp.cleanup();
});

describe('no packet leaves a strict replay', () => {
  it('DNS exfiltration through a Resolver aimed at our own UDP server sends nothing, and is listed as refused', async () => {
    const dir = project();
    const id = await trace({ udpPort });
    const r = await replay(id, `${dir}/attacks.mjs#dnsExfiltration`);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json!.output!;
    for (const k of ['resolverTxt', 'promisesTxt', 'lookup', 'resolve4'])
      expect(out[k], k).toMatchObject({ ok: false, code: 'ERR_ACCESS_DENIED' });
    expect(r.json!.refusedConnections).toEqual(
      expect.arrayContaining(['dns secret-1.exfil.test', 'dns secret-2.exfil.test', 'dns secret-3.exfil.test']),
    );
    expect(udpReceived).toEqual([]);
  });

  it('UDP through new dgram.Socket and dgram.createSocket sends nothing', async () => {
    const dir = project();
    const id = await trace({ udpPort });
    const r = await replay(id, `${dir}/attacks.mjs#udpOut`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.output).toMatchObject({
      ctor: { ok: false, code: 'ERR_ACCESS_DENIED' },
      factory: { ok: false, code: 'ERR_ACCESS_DENIED' },
    });
    expect(r.json!.refusedConnections).toContain('udp');
    expect(udpReceived).toEqual([]);
  });

  it('TCP out reaches nothing, and a listener inside the sandbox accepts no connection from outside', async () => {
    const dir = project();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const listenPort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const id = await trace({ tcpPort, listenPort });
    let accepted = 0;
    let replaying = true;
    const knock = (async () => {
      while (replaying) {
        await new Promise<void>((res) => {
          const s = net.connect(listenPort, '127.0.0.1', () => {
            accepted += 1;
            s.destroy();
            res();
          });
          s.on('error', () => res());
        });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const r = await replay(id, `${dir}/attacks.mjs#tcpOutAndListen`);
    replaying = false;
    await knock;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.output).toMatchObject({
      out: { ok: false, code: 'ERR_ACCESS_DENIED' },
      listen: { ok: false, code: 'ERR_ACCESS_DENIED' },
    });
    expect(r.json!.refusedConnections).toEqual(
      expect.arrayContaining([`127.0.0.1:${tcpPort}`, `listen 127.0.0.1:${listenPort}`]),
    );
    expect(accepted).toBe(0);
    expect(tcpConnections).toBe(0);
  });

  it('HTTP/2, WebSocket, the inspector and raw bindings are refused', async () => {
    const dir = project();
    const id = await trace({ tcpPort });
    const r = await replay(id, `${dir}/attacks.mjs#otherExits`);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json!.output!;
    expect(out.http2).toMatchObject({ ok: false, code: 'ERR_ACCESS_DENIED' });
    expect(out.inspectorOpen).toMatchObject({ ok: false, code: 'ERR_ACCESS_DENIED' });
    expect(out.inspectorSession).toMatchObject({ ok: false, code: 'ERR_ACCESS_DENIED' });
    expect(out.binding).toMatchObject({ ok: false, code: 'ERR_ACCESS_DENIED' });
    if (typeof WebSocket === 'function') expect(out.websocket).toMatchObject({ ok: false });
    expect(tcpConnections).toBe(0);
  });
});

describe('the sandbox reads code, not data', () => {
  it("the store file and its WAL (tenant A's trace in it), .env, .git and the home folder's credentials are unreadable to tenant B's replay", async () => {
    const dir = project();
    // the project's own store, holding tenant A's secret, next to the agent — the default layout
    const storeDir = join(dir, '.retrace');
    mkdirSync(storeDir);
    const storeUrl = `sqlite:${join(storeDir, 'retrace.db')}`;
    const secret = 'tenant-a-secret-7f3a9c';
    await seed(storeUrl, { 'tr-tenant-a': new TraceBuilder('a', { input: { secret } }).complete().events }, 'tenant-a');
    writeFileSync(join(dir, '.env'), 'OPENAI_API_KEY=sk-from-dotenv-0000\n');
    writeFileSync(join(dir, '.env.local'), 'X=1\n');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'config'), '[core]\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', '.npmrc'), '//registry.npmjs.org/:_authToken=npm_x\n');
    writeFileSync(join(dir, 'prompt.txt'), 'a prompt the agent may read\n');
    const files = {
      store: join(storeDir, 'retrace.db'),
      wal: join(storeDir, 'retrace.db-wal'),
      dotenv: join(dir, '.env'),
      dotenvLocal: join(dir, '.env.local'),
      git: join(dir, '.git', 'config'),
      npmrc: join(dir, 'sub', '.npmrc'),
      relativeDotenv: '.env',
      home: join(process.env.HOME ?? '/root', '.bashrc'),
      code: join(dir, 'prompt.txt'),
    };
    const b = new TraceBuilder('attack', { input: { files } }).complete();
    // the replay runs in tenant B, from the project folder, with the recorded cwd being that folder
    (b.events[0]!.payload as { environment: { cwd?: string } }).environment.cwd = dir;
    await seed(storeUrl, { 'tr-tenant-b': b.events }, 'tenant-b');
    const r = await retrace(['replay', 'tr-tenant-b', '--agent', `${dir}/attacks.mjs#readData`, '--fast', '--json'], {
      RETRACE_STORE: storeUrl,
      RETRACE_TENANT: 'tenant-b',
    });
    expect(r.code, r.stderr).toBe(0);
    const out = (JSON.parse(r.stdout) as ReplayJson).output!;
    for (const k of ['store', 'wal', 'dotenv', 'dotenvLocal', 'git', 'npmrc', 'relativeDotenv', 'home'])
      expect(out[k], k).toMatchObject({ ok: false });
    expect(out.store).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    expect(out.dotenv).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    expect(out.code).toMatchObject({ ok: true });
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).not.toContain('sk-from-dotenv');
  });

  it('a TypeScript agent gets the JavaScript permission level: ChildProcess#spawn starts nothing', async () => {
    const dir = project();
    const marker = join(dir, 'spawned-by-sandbox');
    const id = await trace({ marker });
    const r = await replay(id, `${dir}/spawn-host.ts#spawnHost`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.output).toMatchObject({ spawned: false, code: 'ERR_ACCESS_DENIED' });
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(!linux)('the sandbox dies with its parent and at its limits (watched with ps and /proc)', () => {
  it('an agent that tries to SIGKILL the CLI and spin cannot: the replay ends normally, nothing left running', async () => {
    const dir = project();
    const id = await trace({});
    const r = await replay(id, `${dir}/attacks.mjs#killParent`, ['--timeout', '20s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.output).toMatchObject({
      kill: { ok: false, code: 'ERR_ACCESS_DENIED' },
      group: { ok: false, code: 'ERR_ACCESS_DENIED' },
    });
    expect(sandboxesOf(dir)).toEqual([]);
  });

  it('SIGKILL of the CLI while the agent spins: the sandbox is gone within a second', async () => {
    const dir = project();
    const id = await trace({});
    const cli = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'retrace.js'), 'replay', id, '--agent', `${dir}/attacks.mjs#spin`, '--timeout', '60s'],
      { cwd: ROOT, env: { ...process.env, RETRACE_TENANT: undefined, ...env }, stdio: 'ignore' },
    );
    let pids: number[] = [];
    for (let i = 0; i < 300 && pids.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      pids = sandboxesOf(dir);
    }
    expect(pids.length).toBe(1);
    await new Promise((res) => setTimeout(res, 500)); // the agent is spinning now
    cli.kill('SIGKILL');
    const killedAt = Date.now();
    let left = pids;
    while (left.length > 0 && Date.now() - killedAt < 3_000) {
      await new Promise((res) => setTimeout(res, 50));
      left = sandboxesOf(dir);
    }
    expect(left).toEqual([]);
  });

  it('Buffers outside the V8 heap are capped on RSS: SANDBOX_OUT_OF_MEMORY naming --memory-mb, RSS from /proc stays near the cap', async () => {
    const dir = project();
    const id = await trace({});
    let peakKb = 0;
    let running = true;
    const poll = (async () => {
      while (running) {
        for (const pid of sandboxesOf(dir)) {
          try {
            const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
            if (m) peakKb = Math.max(peakKb, Number(m[1]));
          } catch {
            /* it just ended */
          }
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const r = await replay(id, `${dir}/attacks.mjs#hoardBuffers`, ['--memory-mb', '256']);
    running = false;
    await poll;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ran out of memory (cap 256 MB)');
    expect(r.stderr).toContain('--memory-mb');
    expect(peakKb).toBeGreaterThan(0);
    // the agent asks for 1.5 GB; the cap is enforced while it is still on its way there
    expect(peakKb / 1024).toBeLessThan(700);
    expect(sandboxesOf(dir)).toEqual([]);
  });

  it('--memory-mb is validated like every other flag', async () => {
    const r = await retrace(['replay', 'x', '--memory-mb', 'lots'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid value for --memory-mb');
  });
});

describe('events come over the channel retrace controls', () => {
  const zeroCode = (dir: string, mode: string) => (events: NewEvent[]) => {
    const p = events[0]!.payload as { mode: string; entry?: string; environment: { argv?: string[]; cwd?: string } };
    p.mode = 'process';
    delete p.entry;
    p.environment.argv = [join(dir, 'forge-journal.mjs'), mode];
    p.environment.cwd = dir;
  };

  it('a zero-code script that writes forged events into its journal gets SANDBOX_PROTOCOL, not a verdict', async () => {
    const dir = project();
    const id = await trace(null, 'default', zeroCode(dir, 'forge'));
    const r = await retrace(['replay', id, '--fast', '--json', '--debug'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[SANDBOX_PROTOCOL]');
    expect(r.stderr).toContain('not written by the retrace runtime');
    expect(r.stdout).not.toContain('equivalent');
  });

  it('a malformed journal line is a clear SANDBOX_PROTOCOL error, not an unexpected failure', async () => {
    const dir = project();
    const id = await trace(null, 'default', zeroCode(dir, 'malformed'));
    const r = await retrace(['replay', id, '--fast', '--json', '--debug'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[SANDBOX_PROTOCOL]');
    expect(r.stderr).toMatch(/journal line \d+: not JSON/);
    expect(r.stderr).not.toContain('unexpected failure');
  });

  it('an agent that writes its own messages to the IPC channel gets SANDBOX_PROTOCOL', async () => {
    const dir = project();
    const id = await trace({});
    const r = await replay(id, `${dir}/attacks.mjs#forgeIpc`, ['--debug']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[SANDBOX_PROTOCOL]');
    expect(r.stderr).toContain('did not seal');
  });
});

describe('trace data never configures the runtime', () => {
  it('a golden with NODE_OPTIONS, NODE_PATH and LD_PRELOAD planted (hash chain recomputed) runs nothing through retrace ci', async () => {
    const dir = project();
    const marker = join(dir, 'written-by-node-options');
    const payload = `import('node:fs').then((fs) => fs.writeFileSync(${JSON.stringify(marker)}, 'pwned'))`;
    const planted = {
      NODE_OPTIONS: `--allow-fs-write=* --import=data:text/javascript,${encodeURIComponent(payload)}`,
      NODE_PATH: dir,
      LD_PRELOAD: join(dir, 'evil.so'),
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    };
    const src = tempStore('golden-src.db');
    const id = 'tr-planted-golden';
    const b = new TraceBuilder('attack', { input: {} }).complete({ ok: true });
    (b.events[0]!.payload as { environment: { env?: Record<string, string> } }).environment.env = planted;
    await seed(src.url, { [id]: b.events });
    const goldens = join(dir, 'goldens');
    mkdirSync(goldens);
    // export recomputes nothing by hand: the store hashed the planted event, so the golden's chain is valid
    const exported = await retrace(['export', id, '--out', join(goldens, 'planted.ndjson')], {
      RETRACE_STORE: src.url,
    });
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(join(goldens, 'planted.ndjson'), 'utf8')).toContain('NODE_OPTIONS');
    const ciStore = tempStore('ci.db');
    const r = await retrace(['ci', goldens, '--agent', `${dir}/attacks.mjs#benign`, '--fast', '--json'], {
      RETRACE_STORE: ciStore.url,
      GITHUB_STEP_SUMMARY: undefined,
    });
    src.cleanup();
    ciStore.cleanup();
    expect(r.stderr).toContain('dropped NODE_OPTIONS, NODE_PATH, LD_PRELOAD');
    const result = JSON.parse(r.stdout) as { traces: Array<{ verdict: string; error: unknown }> };
    expect(result.traces[0]!.error).toBeNull();
    expect(existsSync(marker)).toBe(false);
  });

  it("the agent's process.env view holds the recorded variables, never the planted process-control ones", async () => {
    const dir = project();
    const id = await trace({ files: {} }, 'default', (events) => {
      (events[0]!.payload as { environment: { env?: Record<string, string> } }).environment.env = {
        NODE_OPTIONS: '--inspect',
        LD_PRELOAD: '/x.so',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      };
    });
    const r = await replay(id, `${dir}/attacks.mjs#readData`);
    expect(r.code, r.stderr).toBe(0);
    const keys = r.json!.output!.processEnvKeys as unknown as string[];
    expect(keys).toContain('OPENAI_BASE_URL');
    expect(keys).not.toContain('NODE_OPTIONS');
    expect(keys).not.toContain('LD_PRELOAD');
    expect(r.stderr).toContain('LD_PRELOAD, NODE_OPTIONS');
  });
});
