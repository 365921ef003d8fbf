import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { NewEvent } from '../../src/events/envelope.js';

/**
 * Test helpers for the S3 archive: an s3rver on a random port in its own temp dir (never the shared default
 * directory, see src/store/s3/bucket.ts), and a generator of valid traces.
 */
export interface S3Fixture {
  endpoint: string;
  bucket: string;
  url(prefix: string): string;
  stop(): Promise<void>;
}

/**
 * s3rver runs in a child process: its request handling and the SDK's signing then use different cores, and a test
 * worker never shares an event loop with the server it talks to.
 */
export async function startS3rver(bucket = 'traces'): Promise<S3Fixture> {
  // credentials come from the usual AWS env; s3rver accepts S3RVER/S3RVER
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const directory = mkdtempSync(join(tmpdir(), 'retrace-s3rver-'));
  const s3rverMain = createRequire(import.meta.url).resolve('s3rver');
  const script = `
    const S3rver = require(${JSON.stringify(s3rverMain)});
    const server = new S3rver({ port: 0, address: '127.0.0.1', directory: ${JSON.stringify(directory)}, silent: true,
      configureBuckets: [{ name: ${JSON.stringify(bucket)} }] });
    server.run().then(({ port }) => process.stdout.write('PORT ' + port + '\\n'));
    process.stdin.on('end', () => server.close().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited early (code ${String(code)})`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    url: (prefix) => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
    stop: async () => {
      // closing stdin asks the child to close the server; the kill is only a fallback for a stuck child
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

const environment = {
  node: process.version,
  platform: process.platform,
  arch: process.arch,
  retraceVersion: '0.0.0-test',
};

/**
 * A complete trace of `n` events (n ≥ 2): agent_started, then llm_request/llm_response pairs (with a decision when n is
 * odd), then agent_completed. `startedAt` fixes the first timestamp, so lists have a known order.
 */
export function makeTrace(
  n: number,
  opts: { agent?: string; startedAt?: Date; payloadBytes?: number } = {},
): NewEvent[] {
  if (n < 2) throw new RangeError('a complete trace has at least 2 events');
  const t0 = (opts.startedAt ?? new Date('2025-01-01T00:00:00.000Z')).getTime();
  const ts = (i: number) => new Date(t0 + i).toISOString();
  const filler = 'x'.repeat(opts.payloadBytes ?? 16);
  const events: NewEvent[] = [
    {
      eventId: randomUUID(),
      type: 'agent_started',
      timestamp: ts(0),
      payload: { agent: opts.agent ?? 'test-agent', input: { q: 'hi' }, environment },
    },
  ];
  let i = 1;
  while (events.length < n - 1) {
    if (n - 1 - events.length === 1) {
      events.push({
        eventId: randomUUID(),
        type: 'decision_made',
        timestamp: ts(i++),
        payload: { decision: 'go', data: filler },
      });
      continue;
    }
    const reqId = randomUUID();
    events.push({
      eventId: reqId,
      type: 'llm_request',
      timestamp: ts(i++),
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        method: 'POST',
        url: '/v1/chat/completions',
        headers: {},
        body: { messages: [{ role: 'user', content: filler }] },
        stream: false,
        requestHash: 'h',
        occurrence: 0,
      },
    });
    events.push({
      eventId: randomUUID(),
      type: 'llm_response',
      timestamp: ts(i++),
      parentEventId: reqId,
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        status: 200,
        body: { text: filler },
        usage: { inputTokens: 10, outputTokens: 5 },
        costUsd: 0.001,
        latencyMs: 12,
      },
    });
  }
  events.push({
    eventId: randomUUID(),
    type: 'agent_completed',
    timestamp: ts(i),
    payload: {
      output: 'done',
      totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: i },
    },
  });
  return events;
}
