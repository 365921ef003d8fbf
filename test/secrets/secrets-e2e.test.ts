import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { ScanResultSchema } from '../../replay-cli/commands/scan.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { canonicalJson, sha256Hex } from '../../src/hashing/canonical-json.js';
import { storedRequestHash } from '../../src/hashing/stored-request.js';
import { replayTrace } from '../../src/replay/index.js';
import { REDACTED } from '../../src/secrets/index.js';
import { openStore } from '../../src/store/index.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, ROOT, retrace, tempStore } from '../cli/cli-harness.js';
import {
  allNeedles,
  DEPLOY_KEY,
  DSN,
  leakyObject,
  leakyText,
  nest,
  PASSWORD,
  QUERY_WITH_CREDENTIALS,
  SHAPED,
} from './corpus.js';

/**
 * Secrets never reach the store, end to end: the corpus (every shape, realistic values) goes through real processes —
 * a zero-code `retrace record -- node script.mjs` agent on the real openai SDK, and a library-mode agent with tools
 * doing their own HTTP — against the LLM stub, in headers, bodies, query strings, tool arguments and results, prompts,
 * argv, stdout, error messages and 100 levels deep. Then a byte search of the SQLite file, its WAL and `retrace
 * export` finds none of them, `retrace scan` agrees, the stored request hashes resist a dictionary, and a replay with
 * different secrets still matches every request.
 */
const run = promisify(execFile);
const SLOW = 240_000;

let stub: LlmStub;
let st: ReturnType<typeof tempStore>;

const hermetic = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('RETRACE_') && !k.startsWith('OPENAI_') && !k.startsWith('ANTHROPIC_')) env[k] = v;
  return { ...env, ...extra };
};

beforeAll(async () => {
  await ensureBuilt();
  stub = await startLlmStub({ chunkDelayMs: 1 });
  st = tempStore('secrets.db');
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await stub?.close();
  st?.cleanup();
});

const corpusArg = (): string =>
  JSON.stringify({
    text: leakyText(),
    object: leakyObject(),
    stripe: SHAPED.stripeLive.value,
    jwt: SHAPED.jwt.value,
    deployKey: DEPLOY_KEY,
    password: PASSWORD,
    queryWithCredentials: QUERY_WITH_CREDENTIALS,
    deep: nest(leakyObject(), 100),
  });

async function recordZeroCode(traceId: string, fail: boolean): Promise<number> {
  const r = await retrace(
    [
      '--store',
      st.url,
      'record',
      '--trace-id',
      traceId,
      '--',
      process.execPath,
      'test/secrets/agents/leaky-script.mjs',
      corpusArg(),
      ...(fail ? ['fail'] : []),
    ],
    {
      OPENAI_BASE_URL: stub.openaiBaseUrl,
      OPENAI_API_KEY: SHAPED.openaiProject.value,
      // allow-listed, so the environment capture must redact them itself
      RETRACE_ENV_ALLOW: 'DATABASE_URL,STRIPE_KEY,HF_TOKEN,DEPLOY_NOTE',
      DATABASE_URL: DSN,
      STRIPE_KEY: SHAPED.stripeRestricted.value,
      HF_TOKEN: SHAPED.huggingface.value,
      DEPLOY_NOTE: `rotate ${SHAPED.npm.value} soon`,
    },
  );
  return r.code;
}

const KEYED_TRACE = 'tr-secrets-library';
const RECORDED_KEY = SHAPED.stripeLive.value;
const RECORDED_PASSWORD = PASSWORD;

async function recordLibrary(): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', 'test/secrets/agents/record-library.ts'], {
    cwd: ROOT,
    env: hermetic({
      RETRACE_STORE: st.url,
      TRACE_ID: KEYED_TRACE,
      STUB_OPENAI_BASE_URL: stub.openaiBaseUrl,
      OPENAI_API_KEY: SHAPED.openaiProject.value,
      PAYMENTS_KEY: RECORDED_KEY,
      SERVICE_PASSWORD: RECORDED_PASSWORD,
      KEYED_INPUT: JSON.stringify({
        baseURL: stub.openaiBaseUrl,
        question: `Charge the order. My other keys: ${leakyText()}`,
        // 96 levels inside the input: the recorder snapshots agent input up to 100 levels (src/recorder/serialize.ts)
        nested: nest(leakyObject(), 96),
      }),
    }),
  });
}

async function readTrace(traceId: string): Promise<StoredEvent[]> {
  const store = await openStore(st.url, { mustExist: true });
  try {
    const out: StoredEvent[] = [];
    for await (const e of store.read('default', traceId)) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}

function leaksIn(text: string): string[] {
  const found: string[] = [];
  for (const [name, needle] of Object.entries(allNeedles())) {
    const forms = [needle, encodeURIComponent(needle), JSON.stringify(needle).slice(1, -1)];
    if (forms.some((f) => text.includes(f))) found.push(name);
  }
  return found;
}

describe('secrets corpus through real processes', () => {
  it('nothing of the corpus is in the SQLite file, its WAL, or `retrace export`; scan finds nothing', {
    timeout: SLOW,
  }, async () => {
    expect(await recordZeroCode('tr-secrets-zero-ok', false)).toBe(0);
    expect(await recordZeroCode('tr-secrets-zero-fail', true)).toBe(1);
    await recordLibrary();

    const ok = await readTrace('tr-secrets-zero-ok');
    const failed = await readTrace('tr-secrets-zero-fail');
    const lib = await readTrace(KEYED_TRACE);
    // the channels were really recorded (so the absence of the secrets means something)
    expect(ok.filter((e) => e.type === 'llm_request')).toHaveLength(2);
    expect(ok.filter((e) => e.type === 'http_request')).toHaveLength(3);
    expect(ok.at(-1)).toMatchObject({
      type: 'agent_completed',
      payload: { output: { stdout: expect.stringContaining('done; used creds:') } },
    });
    expect(failed.at(-1)).toMatchObject({
      type: 'agent_failed',
      payload: { error: { message: expect.stringContaining('deploy rejected') } },
    });
    expect(lib.map((e) => e.type)).toEqual(
      expect.arrayContaining(['tool_call', 'tool_response', 'http_request', 'llm_request', 'agent_completed']),
    );
    const started = ok[0] as StoredEvent & { type: 'agent_started' };
    expect(JSON.stringify(started.payload)).toContain('leaky-script.mjs');
    const all = JSON.stringify([ok, failed, lib]);
    expect(all.split(REDACTED).length).toBeGreaterThan(100);

    const bytes = [st.path, `${st.path}-wal`]
      .filter((p) => existsSync(p))
      .map((p) => readFileSync(p).toString('latin1'))
      .join('\n');
    expect(bytes.length).toBeGreaterThan(0);
    expect(leaksIn(bytes)).toEqual([]);
    expect(leaksIn(all)).toEqual([]);
    for (const id of ['tr-secrets-zero-ok', 'tr-secrets-zero-fail', KEYED_TRACE]) {
      const exported = await retrace(['--store', st.url, 'export', id]);
      expect(exported.code).toBe(0);
      expect(exported.stdout.split('\n').length).toBeGreaterThan(5);
      expect(leaksIn(exported.stdout), id).toEqual([]);
    }

    const scan = await retrace(['--store', st.url, '--json', 'scan', '--all']);
    const result = ScanResultSchema.parse(JSON.parse(scan.stdout));
    expect(result.findings).toEqual([]);
    expect(result.traces).toBe(3);
    expect(scan.code).toBe(0);
  });

  it('`retrace scan --file` exits 1 on a planted NDJSON and names event, path and shape, masked', {
    timeout: SLOW,
  }, async () => {
    const exported = await retrace(['--store', st.url, 'export', 'tr-secrets-zero-ok']);
    const lines = exported.stdout.trim().split('\n');
    const planted = lines.map((line, i) => {
      if (i !== 1) return line;
      const e = JSON.parse(line) as { payload: Record<string, unknown> };
      e.payload.planted = nest({ note: `key ${SHAPED.gitlab.value}`, password: 'hunter2-planted' }, 100);
      return JSON.stringify(e);
    });
    const file = join(st.dir, 'planted.ndjson');
    writeFileSync(file, `${planted.join('\n')}\n`);
    const text = await retrace(['scan', '--file', file]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('gitlab');
    expect(text.stdout).not.toContain(SHAPED.gitlab.value);
    expect(text.stdout).not.toContain('hunter2-planted');
    const json = await retrace(['--json', 'scan', '--file', file]);
    expect(json.code).toBe(1);
    const result = ScanResultSchema.parse(JSON.parse(json.stdout));
    expect(result.findings.map((f) => [f.seq, f.shape])).toEqual([
      [1, 'gitlab'],
      [1, 'secret-field'],
    ]);
    expect(result.findings[0]?.path).toMatch(/^\/payload\/planted(\/inner|\/0){100}\/note$/);
    // the same file without the planted line is clean
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect((await retrace(['scan', '--file', file])).code).toBe(0);
    // a line that is not JSON is an input error, not a pass
    writeFileSync(file, '{"broken"\n');
    expect((await retrace(['scan', '--file', file])).code).toBe(2);
  });

  it('the stored request hash is the hash of the stored (redacted) request: a dictionary recovers nothing', {
    timeout: SLOW,
  }, async () => {
    const events = await readTrace('tr-secrets-zero-ok');
    const form = events.find((e) => e.type === 'http_request' && e.payload.url.endsWith('/oauth/token'));
    if (!form || form.type !== 'http_request') throw new Error('no form request recorded');
    expect(form.payload.body).toContain(`password=${encodeURIComponent(REDACTED)}`);
    expect(form.payload.requestHash).toBe(storedRequestHash(form));
    // the attack: put each candidate password back where the store shows [REDACTED] and hash it, with the key's own
    // algorithm and with the plain sha256 of the unredacted request that keys used to be
    const dictionary = ['123456', 'password', 'hunter2', 'letmein', PASSWORD, 'Winter2026!'];
    for (const guess of dictionary) {
      const body = String(form.payload.body).replace(
        `password=${encodeURIComponent(REDACTED)}`,
        `password=${encodeURIComponent(guess)}`,
      );
      const guessed = { ...form, payload: { ...form.payload, body } };
      // every guess gives the stored hash: it says nothing about which one is right
      expect(storedRequestHash(guessed)).toBe(form.payload.requestHash);
      const url = new URL(form.payload.url);
      const naive = sha256Hex(
        canonicalJson({
          kind: 'http',
          method: 'POST',
          target: `${url.hostname}${url.pathname}`,
          query: [],
          headers: {},
          body,
        }),
      );
      expect(naive).not.toBe(form.payload.requestHash);
    }
  });

  it('a replay with a different API key and password still matches every request', { timeout: SLOW }, async () => {
    const recorded = await readTrace(KEYED_TRACE);
    const llm = recorded.find((e) => e.type === 'llm_request');
    if (!llm || llm.type !== 'llm_request') throw new Error('no llm_request recorded');
    // the password is known only from the tool's `password` argument earlier in the run: the run's memory redacted it
    // in the prompt, and the stored hash is the hash of that stored prompt — so the replay, whose prompt holds another
    // password, is matched by the [REDACTED] wildcard, not by the exact key
    expect(JSON.stringify(llm.payload.body)).toContain(`the service password is ${REDACTED}`);
    expect(llm.payload.requestHash).toBe(storedRequestHash(llm));
    const store = await openStore(st.url, { mustExist: true });
    try {
      const other = `sk_live_51${'Q7'.repeat(48)}x`;
      const result = await replayTrace({
        store,
        tenant: 'default',
        traceId: KEYED_TRACE,
        fast: true,
        timeoutMs: 120_000,
        env: { PAYMENTS_KEY: other, SERVICE_PASSWORD: 'a-completely-different-pass-99' },
      });
      expect(result.misses).toEqual([]);
      expect(result.outcome).toBe('completed');
      expect(['identical', 'equivalent']).toContain(result.verdict);
      // the replayed agent really used the other key (it was not served the recorded one from somewhere)
      expect(JSON.stringify(result.output)).toContain(REDACTED);
      const replayed: StoredEvent[] = [];
      for await (const e of store.read('default', result.replayTraceId)) replayed.push(e);
      expect(JSON.stringify(replayed)).not.toContain(other);
      expect(JSON.stringify(replayed)).not.toContain('a-completely-different-pass-99');
    } finally {
      await store.close();
    }
  });
});
