import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/envelope.js';
import { expectUsage, llm, providerHarness, SLOW } from './harness.js';
import { vercelBedrockAgent, vercelGoogleAgent } from './vercel-agents.js';

/**
 * The Vercel AI SDK (ai 5) with its Google and Amazon Bedrock providers against the local stub: generateText with a
 * tool (function call, tool, answer), then streamText. Both providers send through `fetch` (Bedrock signed with SigV4
 * by the provider itself, not the AWS SDK), with no provider configuration in the recorder.
 */

const FILE = 'test/providers/vercel-agents.ts';
const h = providerHarness();

function calls(events: readonly StoredEvent[]) {
  return llm(events).requests.flatMap((r) =>
    r.type === 'llm_request' ? [[r.payload.provider, r.payload.operation, r.payload.model, r.payload.stream]] : [],
  );
}

describe('Vercel AI SDK providers, recognised by shape, replayed with the stub stopped', () => {
  it('@ai-sdk/google: generateText with a tool, then streamText', { timeout: SLOW }, async () => {
    const input = { baseURL: `${h.stub.url}/v1beta` };
    const entry = `${FILE}#vercelGoogleAgent`;
    const { traceId, output, events } = await h.recordRun('vercel-google', entry, input, vercelGoogleAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    expect(calls(events)).toEqual([
      ['gemini', 'generateContent', 'gemini-2.5-flash', false],
      ['gemini', 'generateContent', 'gemini-2.5-flash', false],
      ['gemini', 'streamGenerateContent', 'gemini-2.5-flash', true],
    ]);
    // the stub answered each request (so the tool round trip and the stream reached it)
    expect(h.stub.requests.map((r) => r.path)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
    ]);
    expect(events.some((e) => e.type === 'tool_call' && e.payload.tool === 'get_weather')).toBe(true);
    expect(output.text).toContain('get_weather returned');
    for (const r of requests)
      if (r.type === 'llm_request') expect(r.payload.headers['x-goog-api-key']).toBe('[REDACTED]');
    expect(responses.map((r) => r.type === 'llm_response' && r.payload.finishReason)).toEqual(['STOP', 'STOP', 'STOP']);
    const streamed = responses[2];
    expect(streamed?.type === 'llm_response' && (streamed.payload.chunks?.length ?? 0) > 3).toBe(true);
    expectUsage(events, output);
    for (const r of responses) if (r.type === 'llm_response') expect(r.payload.costUsd).toBeGreaterThan(0);
    await h.noSecretsStored(traceId);

    const changed = await h.recordRun('vercel-google', entry, { ...input, model: 'gemini-2.5-pro' }, vercelGoogleAgent);
    expect(calls(changed.events).map((c) => c[2])).toEqual(['gemini-2.5-pro', 'gemini-2.5-pro', 'gemini-2.5-pro']);
    await h.modelChangeClassified(traceId, changed.traceId);

    // replay: the provider's key variable gets a placeholder, the answers come from the recording
    const result = await h.replayStopped(traceId);
    const replayed = await h.readEvents(result.replayTraceId);
    expect(llm(replayed).responses.map((r) => r.type === 'llm_response' && r.payload.usage)).toEqual(
      responses.map((r) => r.type === 'llm_response' && r.payload.usage),
    );
  });

  it('@ai-sdk/amazon-bedrock: Converse with a tool, then ConverseStream, SigV4-signed over fetch', {
    timeout: SLOW,
  }, async () => {
    const input = { baseURL: h.stub.url };
    const entry = `${FILE}#vercelBedrockAgent`;
    const { traceId, output, events } = await h.recordRun('vercel-bedrock', entry, input, vercelBedrockAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    const model = 'anthropic.claude-3-5-haiku-20241022-v1:0';
    expect(calls(events)).toEqual([
      ['bedrock', 'converse', model, false],
      ['bedrock', 'converse', model, false],
      ['bedrock', 'converse-stream', model, true],
    ]);
    // signed by the provider (aws4fetch): a SigV4 authorization header arrived, and none was stored
    expect(h.stub.requests.every((r) => r.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ') === true)).toBe(true);
    for (const r of requests) if (r.type === 'llm_request') expect(r.payload.headers.authorization).toBe('[REDACTED]');
    expect(events.some((e) => e.type === 'tool_call' && e.payload.tool === 'get_weather')).toBe(true);
    expect(output.text).toContain('get_weather returned');
    expect(responses.map((r) => r.type === 'llm_response' && r.payload.finishReason)).toEqual([
      'tool_use',
      'end_turn',
      'end_turn',
    ]);
    const streamed = responses[2];
    expect(streamed?.type === 'llm_response' && (streamed.payload.chunks?.length ?? 0) > 3).toBe(true);
    expectUsage(events, output);
    for (const r of responses) if (r.type === 'llm_response') expect(r.payload.costUsd).toBeGreaterThan(0);
    await h.noSecretsStored(traceId);

    const changed = await h.recordRun(
      'vercel-bedrock',
      entry,
      { ...input, model: 'amazon.nova-lite-v1:0' },
      vercelBedrockAgent,
    );
    expect(calls(changed.events).map((c) => c[2])).toEqual([
      'amazon.nova-lite-v1:0',
      'amazon.nova-lite-v1:0',
      'amazon.nova-lite-v1:0',
    ]);
    await h.modelChangeClassified(traceId, changed.traceId);

    // replay: placeholder AWS credentials (the provider signs with them), the event stream framed again
    const result = await h.replayStopped(traceId);
    const replayed = await h.readEvents(result.replayTraceId);
    expect(llm(replayed).responses.map((r) => r.type === 'llm_response' && r.payload.usage)).toEqual(
      responses.map((r) => r.type === 'llm_response' && r.payload.usage),
    );
  });
});
