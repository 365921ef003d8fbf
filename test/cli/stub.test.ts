import Anthropic from '@anthropic-ai/sdk';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, ensureBuilt, ROOT, retrace } from './cli-harness.js';

/**
 * `retrace stub` from the built binary, as a user starts it: a long-running server whose first stdout line says where
 * it listens, answering the real openai and @anthropic-ai/sdk clients, stopping cleanly on SIGTERM.
 */
const BIN = join(ROOT, 'bin', 'retrace.js');

interface Started {
  proc: ChildProcessWithoutNullStreams;
  firstLine: string;
}

async function startStub(args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, [BIN, 'stub', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: proc.stdout });
  const [firstLine] = (await Promise.race([
    once(lines, 'line'),
    once(proc, 'exit').then(([code]) => {
      throw new Error(`retrace stub exited with ${String(code)} before listening`);
    }),
  ])) as [string];
  return { proc, firstLine };
}

async function stop(proc: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

describe('retrace stub', () => {
  let stub: Started;
  let urls: { url: string; openaiBaseUrl: string; anthropicBaseUrl: string };
  beforeAll(async () => {
    stub = await startStub(['--port', '0', '--json', '--chunk-delay-ms', '0']);
    urls = JSON.parse(stub.firstLine) as typeof urls;
  });
  afterAll(async () => {
    if (stub) await stop(stub.proc);
  });

  it('prints its URLs as one JSON line and answers the OpenAI SDK deterministically, streamed or not', async () => {
    expect(urls.openaiBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const openai = new OpenAI({ baseURL: urls.openaiBaseUrl, apiKey: 'sk-stub', maxRetries: 0 });
    const ask = () =>
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello stub' }] });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]?.message.content).toBeTruthy();
    expect(b).toEqual(a);
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: '[[reply:streamed words here]]' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed words here');
  });

  it('answers the Anthropic SDK', async () => {
    const anthropic = new Anthropic({ baseURL: urls.anthropicBaseUrl, apiKey: 'sk-stub', maxRetries: 0 });
    const msg = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: '[[reply:from the stub]]' }],
    });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'from the stub' });
  });

  it('stops with exit code 0 on SIGTERM', async () => {
    const other = await startStub(['--port', '0']);
    expect(other.firstLine).toMatch(/^retrace stub listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(await stop(other.proc)).toBe(0);
  });

  it('says what to do when the port is taken (exit 3), and refuses a bad port (exit 2)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await retrace(['stub', '--port', String(port)]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`Cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(r.stderr).toContain('--port 0');
    } finally {
      blocker.close();
    }
    const bad = await retrace(['stub', '--port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port');
  });
});
