import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StoredEvent } from '../../src/events/envelope.js';
import { createRecorder, type ReplayHooks } from '../../src/recorder/index.js';
import { buildReplayCache } from '../../src/replay/cache/build.js';
import { ReplayCache } from '../../src/replay/cache/lookup.js';
import { createReplayHooks } from '../../src/replay/hooks.js';
import { readTrace, tempStore } from '../recorder/helpers.js';

/**
 * The replay fast path: the fetch wrapper records a replayed, non-streamed response from the body the replay hooks
 * built (ReplayHooks.bodyOf) instead of teeing and reading a clone. It must record exactly what the clone path records:
 * same events, same payload bytes, for JSON LLM answers, text, empty and binary bodies, null-body statuses and errors.
 */
let server: Server;
let base: string;
const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]);

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      if (path.startsWith('/v1/chat/completions')) {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-request-id', 'req_1');
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            model: 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: 'héllo ✓' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
          }),
        );
      } else if (path === '/text') {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end('plain text ✓');
      } else if (path === '/untyped') {
        res.end('no content type');
      } else if (path === '/empty') {
        res.setHeader('content-type', 'application/json');
        res.end('');
      } else if (path === '/binary') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(BINARY);
      } else if (path === '/nocontent') {
        res.statusCode = 204;
        res.end();
      } else {
        res.statusCode = 503;
        res.setHeader('content-type', 'application/json');
        res.end('{"error":{"message":"down"}}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function agent(): Promise<unknown[]> {
  const out: unknown[] = [];
  const llm = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  out.push(await llm.json());
  for (const path of ['/text', '/untyped', '/empty', '/binary', '/nocontent', '/down']) {
    const res = await fetch(`${base}${path}`);
    out.push([res.status, res.headers.get('content-type'), Buffer.from(await res.arrayBuffer()).toString('base64')]);
  }
  return out;
}

/** what must be identical: everything but ids, timestamps, latencies, seq/hash chain */
function comparable(events: StoredEvent[]): unknown[] {
  return events
    .filter((e) => e.type !== 'agent_started' && e.type !== 'agent_completed')
    .map((e) => {
      const { latencyMs: _l, startMs: _s, headersMs: _h, ...payload } = e.payload as Record<string, unknown>;
      return { type: e.type, payload };
    });
}

test('a replayed non-streamed response is recorded byte for byte as the clone path records it', async () => {
  const t = tempStore();
  try {
    const recorder = createRecorder({ store: t.store, providers: [base] });
    const original = await recorder.run({ agent: 'fast-path' }, agent);
    await recorder.close();
    const recorded = await readTrace(t.store, 'default', original.traceId);

    const replayWith = async (withBodyOf: boolean) => {
      const hooks = createReplayHooks({
        cache: new ReplayCache(buildReplayCache(recorded)),
        onMiss: 'error',
        fast: true,
        report: () => undefined,
      });
      // without bodyOf the recorder reads a clone of each answer, as it did before the fast path
      const seam: ReplayHooks = withBodyOf
        ? hooks
        : {
            respondHttp: (r) => hooks.respondHttp(r),
            nextValue: (s) => hooks.nextValue(s),
            respondTool: (c) => hooks.respondTool(c),
          };
      const replayer = createRecorder({ store: t.store, providers: [base], hooks: seam });
      const result = await replayer.run({ agent: 'fast-path-replay' }, agent);
      await replayer.close();
      expect(hooks.misses).toEqual([]);
      return { output: result.output, events: await readTrace(t.store, 'default', result.traceId) };
    };
    const fast = await replayWith(true);
    const slow = await replayWith(false);
    expect(fast.output).toEqual(slow.output);
    expect(fast.output).toEqual(original.output);
    expect(JSON.stringify(comparable(fast.events))).toBe(JSON.stringify(comparable(slow.events)));
    expect(comparable(fast.events)).toEqual(comparable(recorded));
    const totals = (events: StoredEvent[]) => (events.at(-1)!.payload as { totals: Record<string, number> }).totals;
    expect({ ...totals(fast.events), durationMs: 0 }).toEqual({ ...totals(recorded), durationMs: 0 });
  } finally {
    await t.cleanup();
  }
});
