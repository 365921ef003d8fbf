import { createServer, type IncomingMessage } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { spansFromOtlpJson } from '../../src/otel/spans.js';
import { createRecorder } from '../../src/recorder/index.js';
import { readTrace, tempStore } from '../recorder/helpers.js';

/**
 * The live mirror: a recorder with `otlp` also ships each finished run to an OTLP endpoint in the background; when the
 * endpoint is down, the run is still stored whole and the failure is reported, not thrown.
 */

let stub: LlmStub;
beforeAll(async () => {
  stub = await startLlmStub({});
});
afterAll(() => stub.close());

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('recorder otlp mirror', () => {
  it('sends each finished run as GenAI spans after it is durable', async () => {
    const bodies: string[] = [];
    const server = createServer(async (req, res) => {
      bodies.push(await body(req));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`;
    const t = tempStore();
    try {
      const recorder = createRecorder({
        store: t.store,
        tenant: 'mirror',
        providers: [stub.openaiBaseUrl],
        otlp: { url, protocol: 'http/json' },
      });
      const openai = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-mirror', maxRetries: 0 });
      const { traceId } = await recorder.run({ agent: 'mirrored' }, () =>
        openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      );
      await recorder.close();
      expect(bodies).toHaveLength(1);
      const spans = spansFromOtlpJson(JSON.parse(bodies[0]!), 'mirror');
      expect(
        spans.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent')?.attributes['retrace.trace_id'],
      ).toBe(traceId);
      expect(spans.some((s) => s.attributes['gen_ai.operation.name'] === 'chat')).toBe(true);
      expect((await readTrace(t.store, 'mirror', traceId)).at(-1)?.type).toBe('agent_completed');
    } finally {
      server.close();
      await t.cleanup();
    }
  });

  it('an endpoint that is down loses nothing from the store and reports the failure', async () => {
    const t = tempStore();
    const errors: unknown[] = [];
    try {
      const recorder = createRecorder({
        store: t.store,
        tenant: 'mirror',
        providers: [stub.openaiBaseUrl],
        otlp: { url: 'http://127.0.0.1:9/v1/traces', timeoutMs: 2_000, onError: (e) => errors.push(e) },
      });
      const openai = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-mirror', maxRetries: 0 });
      const { traceId, output } = await recorder.run({ agent: 'mirrored' }, async () => {
        const r = await openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        });
        return r.choices[0]?.message.content;
      });
      expect(typeof output).toBe('string');
      await recorder.close();
      const events = await readTrace(t.store, 'mirror', traceId);
      expect(events.map((e) => e.type).filter((x) => x !== 'nondeterminism')).toEqual([
        'agent_started',
        'llm_request',
        'llm_response',
        'agent_completed',
      ]);
      expect(errors).toHaveLength(1);
      expect((errors[0] as { code?: string }).code).toBe('OTLP_EXPORT_FAILED');
    } finally {
      await t.cleanup();
    }
  });
});
