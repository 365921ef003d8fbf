import { createServer, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTraceRequest } from '../../src/otel/protobuf-decode.js';
import { spansFromOtlpJson } from '../../src/otel/spans.js';
import { retraceTraceIdOf } from '../../src/otel/ids.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, tempStore } from '../cli/cli-harness.js';
import { startCollect } from './collect-helpers.js';
import { readEvents, recordTravelTraces, type Recorded } from './record-helpers.js';

/**
 * retrace → OTLP → retrace: the real OTLP/HTTP exporter (`retrace export --otlp-endpoint`) sends to a receiver of the
 * test's and to `retrace collect`; the collected trace keeps model, tokens, tool calls and content, and bad input is
 * a 400 / exit 2 that names the field and stores nothing.
 */

const TENANT = 'otel';
const source = tempStore('source.db');
const target = tempStore('target.db');
let rec: Recorded;

beforeAll(async () => {
  await ensureBuilt();
  rec = await recordTravelTraces(source.url, TENANT);
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await rec?.close();
  source.cleanup();
  target.cleanup();
});

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const llmView = (events: StoredEvent[]): unknown[] =>
  events.flatMap((e): unknown[] =>
    e.type === 'llm_request'
      ? [{ type: e.type, model: e.payload.model, body: e.payload.body }]
      : e.type === 'llm_response'
        ? [
            {
              type: e.type,
              model: e.payload.model,
              usage: e.payload.usage,
              body: e.payload.body,
              finish: e.payload.finishReason,
            },
          ]
        : e.type === 'tool_call'
          ? [{ type: e.type, tool: e.payload.tool, args: e.payload.args }]
          : e.type === 'tool_response'
            ? [{ type: e.type, tool: e.payload.tool, result: e.payload.result }]
            : [],
  );

describe('OTLP/HTTP out and back in', () => {
  it('sends protobuf (default) and JSON with the official exporter, with the given headers', async () => {
    const received: { type: string; auth: string; body: Buffer }[] = [];
    const server = createServer(async (req, res) => {
      received.push({
        type: String(req.headers['content-type']),
        auth: String(req.headers.authorization),
        body: await body(req),
      });
      res.writeHead(200, { 'content-type': String(req.headers['content-type']) });
      res.end(req.headers['content-type'] === 'application/json' ? '{}' : '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}/v1/traces`;
      const env = { RETRACE_STORE: source.url, RETRACE_TENANT: TENANT };
      const pb = await retrace(
        ['export', rec.okTraceId, '--otlp-endpoint', url, '--otlp-header', 'authorization=Bearer t0k'],
        env,
      );
      expect(pb.stderr).toContain('sent 5 spans');
      expect(pb.code).toBe(0);
      const js = await retrace(['export', rec.okTraceId, '--otlp-endpoint', url, '--otlp-protocol', 'http/json'], env);
      expect(js.code).toBe(0);
      expect(received.map((r) => r.type)).toEqual(['application/x-protobuf', 'application/json']);
      expect(received[0]!.auth).toBe('Bearer t0k');
      const fromPb = spansFromOtlpJson(decodeTraceRequest(received[0]!.body), 'pb');
      const fromJson = spansFromOtlpJson(JSON.parse(received[1]!.body.toString('utf8')), 'json');
      expect(fromPb).toEqual(fromJson);
      expect(fromPb.map((s) => s.attributes['gen_ai.operation.name']).sort()).toEqual(
        ['chat', 'chat', 'execute_tool', 'invoke_agent', undefined].sort(),
      );
    } finally {
      server.close();
    }
  });

  it('an endpoint that is down is exit 3 with a hint, and nothing stored changes', async () => {
    const r = await retrace(['export', rec.okTraceId, '--otlp-endpoint', 'http://127.0.0.1:9/v1/traces'], {
      RETRACE_STORE: source.url,
      RETRACE_TENANT: TENANT,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Could not send spans');
    const v = await retrace(['verify', rec.okTraceId], { RETRACE_STORE: source.url, RETRACE_TENANT: TENANT });
    expect(v.code).toBe(0);
  });

  it('round-trips through retrace collect: model, tokens, tool calls and content survive', async () => {
    const collect = await startCollect({ RETRACE_STORE: target.url, RETRACE_TENANT: 'collected' }, [
      '--settle-ms',
      '500',
    ]);
    try {
      const sent = await retrace(['export', rec.okTraceId, '--otlp-endpoint', collect.url, '--include-content'], {
        RETRACE_STORE: source.url,
        RETRACE_TENANT: TENANT,
      });
      expect(sent.code).toBe(0);
    } finally {
      expect(await collect.stop()).toBe(0);
    }
    expect(collect.stderr()).toContain('imported');
    const original = await readEvents(source.url, TENANT, rec.okTraceId);
    const listed = await retrace(['list', '--json'], { RETRACE_STORE: target.url, RETRACE_TENANT: 'collected' });
    const traces = (
      JSON.parse(listed.stdout) as { traces: { traceId: string; inputTokens: number; outputTokens: number }[] }
    ).traces;
    expect(traces).toHaveLength(1);
    const back = await readEvents(target.url, 'collected', traces[0]!.traceId);
    expect(traces[0]!.traceId).toMatch(/^otel_[0-9a-f]{32}$/);
    expect(llmView(back)).toEqual(llmView(original));
    const started = back[0]!;
    expect(started.type === 'agent_started' && started.payload.tags).toEqual(['imported']);
    expect(
      started.type === 'agent_started' &&
        (started.payload.metadata?.imported as { sources: string[] } | undefined)?.sources,
    ).toEqual(['http', 'retrace']);
    const totals = (e: StoredEvent) => (e.type === 'agent_completed' ? e.payload.totals : undefined);
    expect(totals(back.at(-1)!)?.inputTokens).toBe(totals(original.at(-1)!)?.inputTokens);
    expect(totals(back.at(-1)!)?.outputTokens).toBe(totals(original.at(-1)!)?.outputTokens);
    // the imported trace is a trace like any other: verify, show, diff against the original
    expect(
      (await retrace(['verify', traces[0]!.traceId], { RETRACE_STORE: target.url, RETRACE_TENANT: 'collected' })).code,
    ).toBe(0);
    const shown = await retrace(['show', traces[0]!.traceId], {
      RETRACE_STORE: target.url,
      RETRACE_TENANT: 'collected',
    });
    expect(shown.stdout).toContain('get_weather');
  });

  it('imports an OTLP/JSON file (and again: unchanged), and bad OTLP names the field and stores nothing', async () => {
    const env = { RETRACE_STORE: target.url, RETRACE_TENANT: 'files' };
    const file = join(target.dir, 'trace.otlp.json');
    expect(
      (
        await retrace(['export', rec.okTraceId, '--format', 'otlp-json', '--out', file], {
          RETRACE_STORE: source.url,
          RETRACE_TENANT: TENANT,
        })
      ).code,
    ).toBe(0);
    const first = await retrace(['import', file, '--json'], env);
    expect(first.code).toBe(0);
    const outcome = JSON.parse(first.stdout) as { format: string; traces: { result: string; traceId: string }[] };
    expect(outcome.format).toBe('otlp-json');
    expect(outcome.traces.map((t) => t.result)).toEqual(['imported']);
    const again = await retrace(['import', file, '--json'], env);
    expect((JSON.parse(again.stdout) as typeof outcome).traces.map((t) => t.result)).toEqual(['unchanged']);

    const bad = join(target.dir, 'bad.otlp.json');
    writeFileSync(
      bad,
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              { spans: [{ traceId: 'zz', spanId: 'x', name: 'a', startTimeUnixNano: 'soon', endTimeUnixNano: '1' }] },
            ],
          },
        ],
      }),
    );
    const r = await retrace(['import', bad], { RETRACE_STORE: target.url, RETRACE_TENANT: 'bad' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano');
    const none = await retrace(['list', '--json'], { RETRACE_STORE: target.url, RETRACE_TENANT: 'bad' });
    expect((JSON.parse(none.stdout) as { traces: unknown[] }).traces).toEqual([]);

    const collect = await startCollect({ RETRACE_STORE: target.url, RETRACE_TENANT: 'bad' });
    try {
      const res = await fetch(collect.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":1}]}]}]}',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain('traceId');
      const garbage = await fetch(collect.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
      });
      expect(garbage.status).toBe(400);
      const wrongType = await fetch(collect.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      });
      expect(wrongType.status).toBe(415);
    } finally {
      await collect.stop();
    }
    expect(retraceTraceIdOf('AB'.repeat(16))).toBe(`otel_${'ab'.repeat(16)}`);
  });

  it('a non-loopback bind needs the token it prints', async () => {
    const collect = await startCollect({ RETRACE_STORE: target.url, RETRACE_TENANT: 'tok' }, ['--host', '0.0.0.0']);
    try {
      expect(collect.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const url = collect.url.replace('0.0.0.0', '127.0.0.1');
      const denied = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceSpans":[]}',
      });
      expect(denied.status).toBe(401);
      const allowed = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${collect.token}` },
        body: '{"resourceSpans":[]}',
      });
      expect(allowed.status).toBe(200);
    } finally {
      await collect.stop();
    }
  });
});
