import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { generateText, stepCountIs, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { importOtlpFile } from '../../src/otel/import.js';
import { openStore } from '../../src/store/open-store.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, tempStore } from '../cli/cli-harness.js';
import { startCollect } from './collect-helpers.js';
import { readEvents } from './record-helpers.js';

/**
 * OTLP from other instrumentations becomes retrace traces: the real Vercel AI SDK with `experimental_telemetry`
 * (through its OpenAI provider against the LLM stub), spans made with @opentelemetry/sdk-trace-node carrying the
 * attributes OpenLLMetry sets, sent by the real OTLP protobuf exporter to `retrace collect`, and a 10,000-span file.
 */

const tmp = tempStore();
let stub: LlmStub;

beforeAll(async () => {
  await ensureBuilt();
  stub = await startLlmStub({ chunkDelayMs: 1 });
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await stub?.close();
  tmp.cleanup();
});

async function onlyTrace(url: string, tenant: string): Promise<StoredEvent[]> {
  const listed = await retrace(['list', '--json'], { RETRACE_STORE: url, RETRACE_TENANT: tenant });
  const traces = (JSON.parse(listed.stdout) as { traces: { traceId: string }[] }).traces;
  expect(traces).toHaveLength(1);
  return readEvents(url, tenant, traces[0]!.traceId);
}

describe('import OTLP from other instrumentations', () => {
  it('the Vercel AI SDK’s experimental_telemetry spans: LLM calls with content, the tool call, usage and cost', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // the async-hooks context manager, so the SDK's nested spans are children of their parents
    provider.register();
    const openai = createOpenAI({ baseURL: stub.openaiBaseUrl, apiKey: 'sk-test-vercel' });
    const result = await generateText({
      model: openai.chat('gpt-4o-mini'),
      system: 'You answer weather questions with the tool.',
      prompt: 'Weather in Oslo? call get_weather({"city":"Oslo"})',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, tempC: 4 }),
        }),
      },
      stopWhen: stepCountIs(3),
      experimental_telemetry: { isEnabled: true, functionId: 'weather-bot', tracer: provider.getTracer('ai') },
    });
    await provider.forceFlush();
    const file = join(tmp.dir, 'vercel.otlp.json');
    writeFileSync(
      file,
      Buffer.from(
        JSON.parse(
          JSON.stringify(Array.from(JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans())!)),
        ) as number[],
      ),
    );
    await provider.shutdown();

    const r = await retrace(['import', file], { RETRACE_STORE: tmp.url, RETRACE_TENANT: 'vercel' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('vercel-ai');
    const events = await onlyTrace(tmp.url, 'vercel');
    const started = events[0]!;
    expect(started.type).toBe('agent_started');
    if (started.type !== 'agent_started') return;
    expect(started.payload.agent).toBe('weather-bot');
    expect(started.payload.tags).toEqual(['imported']);
    const requests = events.filter((e) => e.type === 'llm_request');
    const responses = events.filter((e) => e.type === 'llm_response');
    expect(requests).toHaveLength(2);
    expect(responses).toHaveLength(2);
    const first = requests[0]!;
    if (first.type !== 'llm_request') return;
    expect(first.payload.model).toBe('gpt-4o-mini');
    const messages = (first.payload.body as { messages: { role: string; content: string }[] }).messages;
    expect(messages[0]).toEqual({ role: 'system', content: 'You answer weather questions with the tool.' });
    expect(messages[1]?.content).toContain('Weather in Oslo?');
    // usage equals what the stub sent (the SDK's own totals)
    const usage = responses.map((e) => (e.type === 'llm_response' ? e.payload.usage : undefined));
    const total = usage.reduce((n, u) => n + (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0), 0);
    expect(total).toBe(result.totalUsage.totalTokens);
    const priced = responses.map((e) => (e.type === 'llm_response' ? e.payload.costUsd : null));
    expect(priced.every((c) => typeof c === 'number' && c > 0)).toBe(true);
    const firstAnswer = responses[0]!;
    const calls =
      firstAnswer.type === 'llm_response'
        ? (
            firstAnswer.payload.body as {
              choices: { message: { tool_calls?: { function: { name: string; arguments: string } }[] } }[];
            }
          ).choices[0]!.message.tool_calls
        : undefined;
    expect(calls?.[0]?.function.name).toBe('get_weather');
    expect(JSON.parse(calls?.[0]?.function.arguments ?? '{}')).toEqual({ city: 'Oslo' });
    const toolCall = events.find((e) => e.type === 'tool_call');
    const toolResponse = events.find((e) => e.type === 'tool_response');
    expect(toolCall?.type === 'tool_call' && toolCall.payload).toMatchObject({
      tool: 'get_weather',
      args: { city: 'Oslo' },
    });
    expect(toolResponse?.type === 'tool_response' && toolResponse.payload.result).toEqual({ city: 'Oslo', tempC: 4 });
    const last = events.at(-1)!;
    expect(last.type === 'agent_completed' && last.payload.output).toBe(result.text);
    // the imported trace verifies, and `retrace show` renders it
    expect((await retrace(['verify'], { RETRACE_STORE: tmp.url, RETRACE_TENANT: 'vercel' })).code).toBe(0);
  });

  it('spans with OpenLLMetry’s attributes, sent by the real OTLP protobuf exporter to retrace collect', async () => {
    const collect = await startCollect({ RETRACE_STORE: tmp.url, RETRACE_TENANT: 'openllmetry' }, [
      '--settle-ms',
      '30000',
    ]);
    try {
      const provider = new NodeTracerProvider({
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: collect.url }))],
      });
      provider.register();
      const tracer = provider.getTracer('opentelemetry-instrumentation-openai');
      tracer.startActiveSpan(
        'weather.workflow',
        {
          attributes: {
            'traceloop.span.kind': 'workflow',
            'traceloop.entity.name': 'weather',
            'traceloop.entity.input': '{"question":"Oslo?"}',
          },
        },
        (root) => {
          const chat = tracer.startSpan('openai.chat', {
            kind: SpanKind.CLIENT,
            attributes: {
              'gen_ai.system': 'openai',
              'llm.request.type': 'chat',
              'gen_ai.request.model': 'gpt-4o',
              'gen_ai.request.temperature': 0,
              'gen_ai.prompt.0.role': 'system',
              'gen_ai.prompt.0.content': 'Be brief.',
              'gen_ai.prompt.1.role': 'user',
              'gen_ai.prompt.1.content': 'Weather in Oslo?',
              'gen_ai.response.model': 'gpt-4o-2024-08-06',
              'gen_ai.completion.0.role': 'assistant',
              'gen_ai.completion.0.content': 'Cold: 4 °C.',
              'gen_ai.completion.0.finish_reason': 'stop',
              'gen_ai.usage.prompt_tokens': 21,
              'gen_ai.usage.completion_tokens': 7,
            },
          });
          chat.end();
          const t = tracer.startSpan('get_weather.tool', {
            attributes: {
              'traceloop.span.kind': 'tool',
              'traceloop.entity.name': 'get_weather',
              'traceloop.entity.input': '{"city":"Oslo"}',
              'traceloop.entity.output': '{"tempC":4}',
            },
          });
          t.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
          t.end();
          root.setAttribute('traceloop.entity.output', '"Cold: 4 °C."');
          root.end();
        },
      );
      await provider.shutdown();
      // the root arrived, so the trace is imported at once; give collect a moment to write it
      for (let i = 0; i < 100 && !collect.stderr().includes('imported'); i++)
        await new Promise((r) => setTimeout(r, 100));
    } finally {
      expect(await collect.stop()).toBe(0);
    }
    const events = await onlyTrace(tmp.url, 'openllmetry');
    const started = events[0]!;
    expect(started.type === 'agent_started' && started.payload.agent).toBe('weather');
    expect(started.type === 'agent_started' && started.payload.input).toEqual({ question: 'Oslo?' });
    const req = events.find((e) => e.type === 'llm_request');
    const res = events.find((e) => e.type === 'llm_response');
    expect(req?.type === 'llm_request' && req.payload.body).toMatchObject({
      model: 'gpt-4o',
      temperature: 0,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Oslo?' },
      ],
    });
    expect(res?.type === 'llm_response' && res.payload.usage).toEqual({ inputTokens: 21, outputTokens: 7 });
    expect(res?.type === 'llm_response' && res.payload.model).toBe('gpt-4o-2024-08-06');
    expect(res?.type === 'llm_response' && res.payload.finishReason).toBe('stop');
    expect(res?.type === 'llm_response' && (res.payload.costUsd ?? 0) > 0).toBe(true);
    const toolResponse = events.find((e) => e.type === 'tool_response');
    expect(toolResponse?.type === 'tool_response' && toolResponse.payload.error?.message).toBe('rate limited');
    expect(events.at(-1)?.type === 'agent_completed' && events.at(-1)!.payload).toMatchObject({
      output: 'Cold: 4 °C.',
    });
  });

  it('a 10,000-span OTLP/JSON-lines file imports with bounded memory', async () => {
    const file = join(tmp.dir, 'big.otlp.jsonl');
    const lines: string[] = [];
    const base = 1_796_000_000_000_000_000n;
    for (let t = 0; t < 100; t++) {
      const traceId = (t + 1).toString(16).padStart(32, '0');
      const spans = [];
      for (let i = 0; i < 100; i++) {
        const start = base + BigInt(t * 1_000_000_000 + i * 1_000_000);
        spans.push({
          traceId,
          spanId: (i + 1).toString(16).padStart(16, '0'),
          ...(i > 0 ? { parentSpanId: (1).toString(16).padStart(16, '0') } : {}),
          name: i === 0 ? 'agent' : 'chat gpt-4o-mini',
          kind: i === 0 ? 1 : 3,
          startTimeUnixNano: String(start),
          endTimeUnixNano: String(start + 500_000n),
          attributes:
            i === 0
              ? [{ key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } }]
              : [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: 100 } },
                  { key: 'gen_ai.usage.output_tokens', value: { intValue: 20 } },
                  {
                    key: 'gen_ai.input.messages',
                    value: {
                      stringValue: JSON.stringify([
                        { role: 'user', parts: [{ type: 'text', content: `question ${i} ${'x'.repeat(400)}` }] },
                      ]),
                    },
                  },
                ],
        });
      }
      lines.push(
        JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${t}` } }] },
              scopeSpans: [{ spans }],
            },
          ],
        }),
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const store = await openStore(`sqlite:${join(tmp.dir, 'big.db')}`);
    try {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 10);
      const outcomes = await importOtlpFile(store, 'big', file, 'otlp-json');
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(outcomes).toHaveLength(100);
      expect(outcomes.every((o) => o.result === 'imported' && o.events === 2 + 99 * 2)).toBe(true);
      const summary = await store.summary('big', outcomes[0]!.traceId);
      expect(summary?.inputTokens).toBe(9_900);
      // the file is ~5 MB; holding the spans and mapping them must stay far below a whole-process budget
      expect(peak - before).toBeLessThan(200 * 1024 * 1024);
    } finally {
      await store.close();
    }
  });
});
