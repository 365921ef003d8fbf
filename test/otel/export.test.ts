import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTraceRequest } from '../../src/otel/protobuf-decode.js';
import { SEMCONV_VERSION } from '../../src/otel/semconv.js';
import { spansFromOtlpJson, type SpanRecord } from '../../src/otel/spans.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, tempStore } from '../cli/cli-harness.js';
import { KEY, readEvents, recordTravelTraces, type Recorded } from './record-helpers.js';

/**
 * `retrace export --format otlp-json|otlp-protobuf` of traces recorded through the real openai SDK: every mapped
 * GenAI attribute, the span tree, the timing taken from the recorded timestamps, content only on request, error status
 * for a failed run and step. The protobuf bytes (the official serializer's) decode to exactly the JSON serializer's spans.
 */

const TENANT = 'otel';
const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url, RETRACE_TENANT: TENANT };
let rec: Recorded;

beforeAll(async () => {
  await ensureBuilt();
  rec = await recordTravelTraces(tmp.url, TENANT);
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await rec?.close();
  tmp.cleanup();
});

async function exportJson(traceId: string, ...flags: string[]): Promise<SpanRecord[]> {
  const out = join(tmp.dir, `${traceId}-${flags.join('')}.otlp.json`);
  const r = await retrace(['export', traceId, '--format', 'otlp-json', '--out', out, ...flags], env);
  expect(r.stderr).toContain('exported');
  expect(r.code).toBe(0);
  return spansFromOtlpJson(JSON.parse(readFileSync(out, 'utf8')), out);
}

const byOp = (spans: SpanRecord[], op: string) => spans.filter((s) => s.attributes['gen_ai.operation.name'] === op);

describe('retrace export --format otlp-json', () => {
  it('maps the run, each LLM call, each tool call and the tool’s HTTP to GenAI spans in one tree', async () => {
    const events = await readEvents(tmp.url, TENANT, rec.okTraceId);
    const spans = await exportJson(rec.okTraceId);
    const [run] = byOp(spans, 'invoke_agent');
    expect(run).toBeDefined();
    expect(run!.name).toBe('invoke_agent travel');
    expect(run!.parentSpanId).toBeUndefined();
    expect(run!.attributes['gen_ai.agent.name']).toBe('travel');
    expect(run!.attributes['retrace.trace_id']).toBe(rec.okTraceId);
    expect(run!.attributes['retrace.tenant_id']).toBe(TENANT);
    expect(run!.resource['service.name']).toBe('travel');
    expect(run!.scopeName).toBe('agent-retrace');

    const chats = byOp(spans, 'chat');
    const llmRequests = events.filter((e) => e.type === 'llm_request');
    const llmResponses = events.filter((e) => e.type === 'llm_response');
    expect(chats).toHaveLength(llmRequests.length);
    expect(chats.length).toBe(2);
    for (const [i, chat] of chats.entries()) {
      const req = llmRequests[i]!;
      const res = llmResponses[i]!;
      if (req.type !== 'llm_request' || res.type !== 'llm_response') throw new Error('unexpected event types');
      expect(chat.name).toBe('chat gpt-4o-mini');
      expect(chat.kind).toBe(3); // CLIENT
      expect(chat.parentSpanId).toBe(run!.spanId);
      expect(chat.attributes['gen_ai.provider.name']).toBe('openai');
      expect(chat.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
      expect(chat.attributes['gen_ai.response.model']).toBe((res.payload.body as { model: string }).model);
      expect(chat.attributes['gen_ai.request.temperature']).toBe(0.2);
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBe(res.payload.usage!.inputTokens);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBe(res.payload.usage!.outputTokens);
      expect(chat.attributes['gen_ai.response.finish_reasons']).toEqual([res.payload.finishReason]);
      expect(chat.attributes['gen_ai.response.id']).toBe((res.payload.body as { id: string }).id);
      expect(chat.attributes['server.address']).toBe('127.0.0.1');
      expect(chat.attributes['retrace.event.seq']).toBe(req.seq);
      expect(chat.attributes['retrace.event.end_seq']).toBe(res.seq);
      // span start/end are the recorded timestamps
      expect(chat.startNs).toBe(BigInt(Date.parse(req.timestamp)) * 1_000_000n);
      expect(chat.endNs).toBe(BigInt(Date.parse(res.timestamp)) * 1_000_000n);
      // no content without --include-content
      expect(chat.attributes['gen_ai.input.messages']).toBeUndefined();
      expect(chat.attributes['gen_ai.output.messages']).toBeUndefined();
    }
    expect(chats[0]!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);

    const [tool] = byOp(spans, 'execute_tool');
    expect(tool!.name).toBe('execute_tool get_weather');
    expect(tool!.attributes['gen_ai.tool.name']).toBe('get_weather');
    const firstAnswer = llmResponses[0]!;
    const callId =
      firstAnswer.type === 'llm_response'
        ? (firstAnswer.payload.body as { choices: { message: { tool_calls: { id: string }[] } }[] }).choices[0]!.message
            .tool_calls[0]!.id
        : '';
    expect(tool!.attributes['gen_ai.tool.call.id']).toBe(callId);
    expect(tool!.parentSpanId).toBe(run!.spanId);
    expect(tool!.attributes['gen_ai.tool.call.arguments']).toBeUndefined();

    // the tool's own HTTP call is a client span under the tool
    const http = spans.filter((s) => s.attributes['http.request.method'] === 'GET');
    expect(http).toHaveLength(1);
    expect(http[0]!.parentSpanId).toBe(tool!.spanId);
    expect(http[0]!.attributes['http.response.status_code']).toBe(200);
    expect(String(http[0]!.attributes['url.full'])).toContain('/weather?city=Lisbon');
    expect(spans.every((s) => s.traceId === run!.traceId)).toBe(true);
    expect(spans.every((s) => s.statusCode === 0)).toBe(true);
  });

  it('adds prompts, outputs, tool arguments and results only with --include-content, redacted as stored', async () => {
    const spans = await exportJson(rec.okTraceId, '--include-content');
    const chats = byOp(spans, 'chat');
    const input = JSON.parse(String(chats[0]!.attributes['gen_ai.input.messages'])) as {
      role: string;
      parts: { type: string; content?: string }[];
    }[];
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
    expect(input[1]!.parts[0]).toEqual({
      type: 'text',
      content: 'Weather in Lisbon? call get_weather({"city":"Lisbon"})',
    });
    const output = JSON.parse(String(chats[0]!.attributes['gen_ai.output.messages'])) as {
      parts: { type: string; name?: string; arguments?: unknown }[];
      finish_reason: string;
    }[];
    expect(output[0]!.parts[0]).toMatchObject({
      type: 'tool_call',
      name: 'get_weather',
      arguments: { city: 'Lisbon' },
    });
    expect(output[0]!.finish_reason).toBe('tool_calls');
    const defs = JSON.parse(String(chats[0]!.attributes['gen_ai.tool.definitions'])) as {
      function: { name: string };
    }[];
    expect(defs[0]!.function.name).toBe('get_weather');
    const second = JSON.parse(String(chats[1]!.attributes['gen_ai.input.messages'])) as {
      role: string;
      parts: { type: string }[];
    }[];
    expect(second.at(-1)).toMatchObject({ role: 'tool', parts: [{ type: 'tool_call_response' }] });
    const [tool] = byOp(spans, 'execute_tool');
    expect(JSON.parse(String(tool!.attributes['gen_ai.tool.call.arguments']))).toEqual({ city: 'Lisbon' });
    expect(JSON.parse(String(tool!.attributes['gen_ai.tool.call.result']))).toEqual({
      city: 'Lisbon',
      tempC: 21,
      sky: 'clear',
    });
    const file = readFileSync(join(tmp.dir, `${rec.okTraceId}---include-content.otlp.json`), 'utf8');
    expect(file).not.toContain(KEY);
    expect(file).toContain('[REDACTED]');
  });

  it('sets status error on a failed run and on the failed step, with the error message', async () => {
    const spans = await exportJson(rec.failedTraceId);
    const [run] = byOp(spans, 'invoke_agent');
    expect(run!.statusCode).toBe(2);
    expect(run!.statusMessage).toContain('weather service answered 404');
    expect(run!.events.find((e) => e.name === 'exception')?.attributes['exception.message']).toContain('404');
    const [tool] = byOp(spans, 'execute_tool');
    expect(tool!.statusCode).toBe(2);
    expect(tool!.attributes['error.type']).toBe('Error');
    const http = spans.find((s) => s.attributes['http.request.method'] === 'GET');
    expect(http!.statusCode).toBe(2);
    expect(http!.attributes['http.response.status_code']).toBe(404);
  });

  it('writes OTLP/protobuf with the official serializer; it decodes to the same spans as the JSON', async () => {
    const pb = join(tmp.dir, 'trace.otlp.pb');
    const r = await retrace(['export', rec.okTraceId, '--format', 'otlp-protobuf', '--out', pb], env);
    expect(r.code).toBe(0);
    const fromPb = spansFromOtlpJson(decodeTraceRequest(readFileSync(pb)), pb);
    const fromJson = await exportJson(rec.okTraceId);
    expect(fromPb).toEqual(fromJson);
    expect(fromPb.length).toBe(5);
  });

  it('exports several traces at once; refuses an unknown trace and bad flags before writing anything', async () => {
    const both = join(tmp.dir, 'both.otlp.json');
    const ok = await retrace(['export', rec.okTraceId, rec.failedTraceId, '--format', 'otlp-json', '--out', both], env);
    expect(ok.code).toBe(0);
    const spans = spansFromOtlpJson(JSON.parse(readFileSync(both, 'utf8')), both);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);

    const missing = await retrace(
      ['export', 'tr_nope', '--format', 'otlp-json', '--out', join(tmp.dir, 'no.json')],
      env,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No trace "tr_nope"');
    const badFormat = await retrace(['export', rec.okTraceId, '--format', 'otlp-xml'], env);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format');
    const badHeader = await retrace(
      ['export', rec.okTraceId, '--otlp-endpoint', 'http://127.0.0.1:1/v1/traces', '--otlp-header', 'bad header'],
      env,
    );
    expect(badHeader.code).toBe(2);
    expect(badHeader.stderr).toContain('--otlp-header');
    const binaryToTerminal = await retrace(['export', rec.okTraceId, '--format', 'otlp-protobuf'], env);
    expect(binaryToTerminal.code).toBe(2);
    expect(binaryToTerminal.stderr).toContain('--out');
  });

  it('names the semantic-conventions version it implements', () => {
    expect(SEMCONV_VERSION).toMatch(/^1\.\d+\.\d+$/);
  });
});
