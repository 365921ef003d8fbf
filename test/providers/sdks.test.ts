import { describe, expect, it } from 'vitest';
import { azureAgent, bedrockAgent, geminiAgent, openaiCustomBaseAgent } from '../../fixtures/agents/provider-agents.js';
import { expectUsage, llm, providerHarness, SECRETS, SLOW } from './harness.js';

/**
 * Every provider through its real SDK against the local stub, recorded with no provider configuration at all (the
 * calls are recognised by path and body shape), then replayed in the sandbox with the stub stopped.
 */

const FILE = 'fixtures/agents/provider-agents.ts';
const h = providerHarness();
const { noSecretsStored, replayStopped, modelChangeClassified } = h;
const recordRun: typeof h.recordRun = (agent, exportName, input, fn) =>
  h.recordRun(agent, `${FILE}#${exportName}`, input, fn);

describe('providers through their real SDKs, recognised by shape, replayed with the stub stopped', () => {
  it('openai with a custom baseURL in code and no env var', { timeout: SLOW }, async () => {
    const input = { baseURL: `${h.stub.url}/v1`, apiKey: SECRETS.openai };
    const { traceId, output, events } = await recordRun(
      'openai-base',
      'openaiCustomBaseAgent',
      input,
      openaiCustomBaseAgent,
    );
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    expect(
      requests.map((r) => r.type === 'llm_request' && [r.payload.provider, r.payload.operation, r.payload.model]),
    ).toEqual([
      ['openai-compatible', 'chat.completions', 'gpt-4o-mini'],
      ['openai-compatible', 'chat.completions', 'gpt-4o-mini'],
    ]);
    expectUsage(events, output);
    for (const r of responses) if (r.type === 'llm_response') expect(r.payload.costUsd).toBeGreaterThan(0);
    await noSecretsStored(traceId);
    const changed = await recordRun(
      'openai-base',
      'openaiCustomBaseAgent',
      { ...input, model: 'gpt-4.1-mini' },
      openaiCustomBaseAgent,
    );
    await modelChangeClassified(traceId, changed.traceId);
    await replayStopped(traceId);
  });

  it('AzureOpenAI (deployment in the path, api-key header, api-version)', { timeout: SLOW }, async () => {
    const input = { endpoint: h.stub.azureEndpoint, deployment: 'gpt-4o-mini' };
    const { traceId, output, events } = await recordRun('azure', 'azureAgent', input, azureAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    const req = requests[0];
    expect(req?.type === 'llm_request' && [req.payload.provider, req.payload.operation, req.payload.model]).toEqual([
      'azure-openai',
      'chat.completions',
      'gpt-4o-mini',
    ]);
    expect(req?.type === 'llm_request' && req.payload.headers['api-key']).toBe('[REDACTED]');
    expectUsage(events, output);
    expect(responses[0]?.type === 'llm_response' && responses[0].payload.costUsd).toBeGreaterThan(0);
    await noSecretsStored(traceId);
    const changed = await recordRun('azure', 'azureAgent', { ...input, deployment: 'gpt-4.1-mini' }, azureAgent);
    await modelChangeClassified(traceId, changed.traceId);
    // the replay sandbox gets a placeholder AZURE_OPENAI_API_KEY, since the recording used Azure
    await replayStopped(traceId);
  });

  it('@google/genai: generateContent with a function declaration, then generateContentStream', {
    timeout: SLOW,
  }, async () => {
    const input = { baseUrl: h.stub.url };
    const { traceId, output, events } = await recordRun('gemini', 'geminiAgent', input, geminiAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    expect(
      requests.map(
        (r) => r.type === 'llm_request' && [r.payload.provider, r.payload.operation, r.payload.model, r.payload.stream],
      ),
    ).toEqual([
      ['gemini', 'generateContent', 'gemini-2.5-flash', false],
      ['gemini', 'streamGenerateContent', 'gemini-2.5-flash', true],
    ]);
    expect(events.some((e) => e.type === 'tool_call' && e.payload.tool === 'get_weather')).toBe(true);
    expect(responses[0]?.type === 'llm_response' && responses[0].payload.finishReason).toBe('STOP');
    expect(responses[1]?.type === 'llm_response' && (responses[1].payload.chunks?.length ?? 0) > 3).toBe(true);
    expectUsage(events, output);
    for (const r of responses) if (r.type === 'llm_response') expect(r.payload.costUsd).toBeGreaterThan(0);
    await noSecretsStored(traceId);
    const changed = await recordRun('gemini', 'geminiAgent', { ...input, model: 'gemini-2.5-pro' }, geminiAgent);
    await modelChangeClassified(traceId, changed.traceId);
    await replayStopped(traceId);
  });

  it('@aws-sdk/client-bedrock-runtime: Converse and ConverseStream over its default HTTP/2 handler', {
    timeout: SLOW,
  }, async () => {
    const input = { endpoint: h.stub.h2cUrl };
    const { traceId, output, events } = await recordRun('bedrock', 'bedrockAgent', input, bedrockAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    // the stub saw HTTP/2 requests (pseudo-headers), so the SDK's NodeHttp2Handler was used
    expect(h.stub.requests.every((r) => r.headers[':method'] === 'POST')).toBe(true);
    const model = 'anthropic.claude-3-5-haiku-20241022-v1:0';
    expect(
      requests.map(
        (r) => r.type === 'llm_request' && [r.payload.provider, r.payload.operation, r.payload.model, r.payload.stream],
      ),
    ).toEqual([
      ['bedrock', 'converse', model, false],
      ['bedrock', 'converse-stream', model, true],
    ]);
    const streamed = responses[1];
    expect(streamed?.type === 'llm_response' && streamed.payload.chunks?.length).toBeGreaterThan(3);
    expect(streamed?.type === 'llm_response' && streamed.payload.finishReason).toBe('end_turn');
    expectUsage(events, output);
    for (const r of responses) if (r.type === 'llm_response') expect(r.payload.costUsd).toBeGreaterThan(0);
    for (const r of requests) if (r.type === 'llm_request') expect(r.payload.headers.authorization).toBe('[REDACTED]');
    await noSecretsStored(traceId);
    const changed = await recordRun(
      'bedrock',
      'bedrockAgent',
      { ...input, modelId: 'amazon.nova-lite-v1:0' },
      bedrockAgent,
    );
    await modelChangeClassified(traceId, changed.traceId);
    // replay: placeholder AWS credentials, the recorded streams answered over a socket-less HTTP/2 session
    const result = await replayStopped(traceId);
    const replayed = await h.readEvents(result.replayTraceId);
    expect(llm(replayed).responses.map((r) => r.type === 'llm_response' && r.payload.usage)).toEqual(
      responses.map((r) => r.type === 'llm_response' && r.payload.usage),
    );
  });
});
