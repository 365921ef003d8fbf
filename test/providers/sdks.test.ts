import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  azureAgent,
  bedrockAgent,
  geminiAgent,
  openaiCustomBaseAgent,
  type ProviderAgentOutput,
} from '../../fixtures/agents/provider-agents.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { diffTraces } from '../../src/diff/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { createRecorder } from '../../src/recorder/index.js';
import { replayTrace } from '../../src/replay/index.js';
import { writeNdjson } from '../../src/transfer/ndjson.js';
import { readAll, tempStore } from '../replay/helpers.js';

/**
 * Every provider through its real SDK against the local stub, recorded with no provider configuration at all (the
 * calls are recognised by path and body shape), then replayed in the sandbox with the stub stopped.
 */

const TENANT = 'prov';
const SLOW = 240_000;
const FILE = 'fixtures/agents/provider-agents.ts';

const SECRETS = {
  openai: 'sk-proj-retraceTEST0123456789abcdefghij',
  azure: 'azure0key0retrace0test0123456789abcdef',
  gemini: 'AIzaSyRetraceTestKey0123456789abcdefghij',
  awsId: 'AKIAIOSFODNN7RETRACE',
  awsSecret: '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',
};

const ENV_NAMES = [
  'AZURE_OPENAI_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_BEARER_TOKEN_BEDROCK',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'RETRACE_STORE',
];

let saved: Record<string, string | undefined> = {};
let stub: LlmStub;
let st: Awaited<ReturnType<typeof tempStore>>;

beforeEach(async () => {
  saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
  for (const n of ENV_NAMES) delete process.env[n];
  process.env.AZURE_OPENAI_API_KEY = SECRETS.azure;
  process.env.GEMINI_API_KEY = SECRETS.gemini;
  process.env.AWS_ACCESS_KEY_ID = SECRETS.awsId;
  process.env.AWS_SECRET_ACCESS_KEY = SECRETS.awsSecret;
  process.env.AWS_REGION = 'us-east-1';
  stub = await startLlmStub({ chunkDelayMs: 2 });
  st = await tempStore();
});
afterEach(async () => {
  for (const [n, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[n];
    else process.env[n] = v;
  }
  await stub.close().catch(() => undefined);
  await st.cleanup();
});

async function recordRun<I>(
  agent: string,
  exportName: string,
  input: I,
  fn: (input: I, ctx: { tool: never }) => Promise<ProviderAgentOutput>,
): Promise<{ traceId: string; output: ProviderAgentOutput; events: StoredEvent[] }> {
  const recorder = createRecorder({ store: st.store, tenant: TENANT });
  try {
    const r = await recorder.run({ agent, entry: `${FILE}#${exportName}`, input }, (ctx) =>
      fn(input, { tool: ctx.tool.bind(ctx) as never }),
    );
    return {
      traceId: r.traceId,
      output: r.output as ProviderAgentOutput,
      events: await readAll(st.store, TENANT, r.traceId),
    };
  } finally {
    await recorder.close();
  }
}

function llm(events: readonly StoredEvent[]) {
  const requests = events.flatMap((e) => (e.type === 'llm_request' ? [e] : []));
  const responses = events.flatMap((e) => (e.type === 'llm_response' ? [e] : []));
  const http = events.filter((e) => e.type === 'http_request');
  return { requests, responses, http };
}

async function noSecretsStored(traceId: string): Promise<void> {
  const raw = [st.dir ? join(st.dir, 'retrace.db') : '', join(st.dir, 'retrace.db-wal')]
    .filter((p) => p !== '' && existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('\n');
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  await writeNdjson(st.store.read(TENANT, traceId), out as never);
  const exported = Buffer.concat(parts).toString('utf8');
  expect(raw.length).toBeGreaterThan(0);
  for (const [name, secret] of Object.entries(SECRETS)) {
    expect(raw.includes(secret), `${name} key in the store file`).toBe(false);
    expect(exported.includes(secret), `${name} key in the export`).toBe(false);
  }
}

async function replayStopped(traceId: string) {
  await stub.close();
  const before = stub.requests.length;
  const result = await replayTrace({ store: st.store, tenant: TENANT, traceId, fast: true, timeoutMs: 120_000 });
  expect(stub.requests.length).toBe(before);
  expect(result.misses).toEqual([]);
  expect(result.refusedConnections).toEqual([]);
  expect(result.error).toBeUndefined();
  expect(result.outcome).toBe('completed');
  expect(['identical', 'equivalent']).toContain(result.verdict);
  return result;
}

async function modelChangeClassified(a: string, b: string): Promise<void> {
  const report = await diffTraces(st.store.read(TENANT, a), st.store.read(TENANT, b));
  expect(report.classCounts['model-parameter-change'] ?? 0).toBeGreaterThan(0);
  expect(report.classCounts['tool-argument-drift']).toBeUndefined();
}

function expectUsage(events: StoredEvent[], output: ProviderAgentOutput): void {
  const { responses } = llm(events);
  expect(responses.map((r) => (r.type === 'llm_response' ? r.payload.usage?.outputTokens : -1))).toEqual(
    output.usage.map((u) => u.output),
  );
  for (const [i, r] of responses.entries())
    if (r.type === 'llm_response') expect(r.payload.usage?.inputTokens).toBe(output.usage[i]?.input);
}

describe('providers through their real SDKs, recognised by shape, replayed with the stub stopped', () => {
  it('openai with a custom baseURL in code and no env var', { timeout: SLOW }, async () => {
    const input = { baseURL: `${stub.url}/v1`, apiKey: SECRETS.openai };
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
    const input = { endpoint: stub.azureEndpoint, deployment: 'gpt-4o-mini' };
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
    const input = { baseUrl: stub.url };
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
    const input = { endpoint: stub.h2cUrl };
    const { traceId, output, events } = await recordRun('bedrock', 'bedrockAgent', input, bedrockAgent);
    const { requests, responses, http } = llm(events);
    expect(http).toEqual([]);
    // the stub saw HTTP/2 requests (pseudo-headers), so the SDK's NodeHttp2Handler was used
    expect(stub.requests.every((r) => r.headers[':method'] === 'POST')).toBe(true);
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
    const replayed = await readAll(st.store, TENANT, result.replayTraceId);
    expect(llm(replayed).responses.map((r) => r.type === 'llm_response' && r.payload.usage)).toEqual(
      responses.map((r) => r.type === 'llm_response' && r.payload.usage),
    );
  });
});
