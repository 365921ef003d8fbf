import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { StoredEvent, StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder, type Recorder, type RunContext } from '../../src/recorder/index.js';
import { verifyTrace } from '../../src/store/verify.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { openaiStreamingAgent, parallelAgent, streamingAgent, supportAgent } from '../../fixtures/agents/index.js';
import type { AgentContext } from '../../fixtures/agents/context.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * The three example agents, recorded through the real openai / @anthropic-ai/sdk clients against the local stub,
 * into the embedded store; every event is checked in order.
 */
const KEY = 'sk-proj-Xq3vT8mN2pL5rK9wB4yH7jD1fG6sA0cE';
const ANTHROPIC_KEY =
  'sk-ant-api03-Zr8kP2mQ5nW9xT3vB7yL1hJ4dF6gS0aC-eR2tY5uI8oP1aS4dF7gH0jK3lZ6xC9vB2nM5qW8eR1tY4u-AbCdEfAA';

let stub: LlmStub;
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 5, retryAfterMs: 10 });
  t = tempStore();
  recorder = createRecorder({
    store: t.store,
    tenant: 'agents',
    providers: [stub.openaiBaseUrl, { baseUrl: stub.anthropicBaseUrl, provider: 'anthropic' }],
  });
});
afterAll(async () => {
  await recorder.close();
  await stub.close();
  await t.cleanup();
});

/** the fixtures' AgentContext from a run's ctx */
const agentCtx = (ctx: RunContext): AgentContext => ({
  tool: ((name: string, fn: (...a: unknown[]) => unknown) => ctx.tool(name, fn)) as AgentContext['tool'],
});

function payload<T extends StoredEvent['type']>(e: StoredEvent | undefined, type: T): StoredEventOf<T>['payload'] {
  expect(e?.type).toBe(type);
  return (e as unknown as { payload: StoredEventOf<T>['payload'] }).payload;
}

/** every response answers the request right before it in the per-kind order, and the chain verifies */
async function checkIntegrity(traceId: string, events: StoredEvent[]): Promise<void> {
  const ids = new Map(events.map((e) => [e.eventId, e]));
  for (const e of events) {
    if (e.type === 'llm_response') expect(ids.get(e.parentEventId ?? '')?.type).toBe('llm_request');
    if (e.type === 'tool_response') expect(ids.get(e.parentEventId ?? '')?.type).toBe('tool_call');
    if (e.type === 'http_response') expect(ids.get(e.parentEventId ?? '')?.type).toBe('http_request');
  }
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  const verdict = await verifyTrace(t.store, 'agents', traceId);
  expect(verdict.ok).toBe(true);
}

describe('example agents recorded through the real SDKs', () => {
  test('support agent (openai chat completions, sequential tool calls)', async () => {
    const input = {
      baseURL: stub.openaiBaseUrl,
      apiKey: KEY,
      customerId: 'C-7',
      question:
        'Where is my order? call lookup_order({"orderId":"A-1001"}) then call refund_order({"orderId":"A-1001","reason":"late"})',
    };
    const { output, traceId } = await recorder.run(
      { agent: 'support', entry: 'fixtures/agents/support-agent.ts#supportAgent', input },
      (ctx) => supportAgent(input, agentCtx(ctx)),
    );
    expect(output.toolCalls.map((c) => c.name)).toEqual(['lookup_order', 'refund_order']);
    const events = await readTrace(t.store, 'agents', traceId);
    expect(typesOf(events)).toEqual([
      'agent_started',
      'llm_request',
      'llm_response',
      'tool_call',
      'tool_response',
      'llm_request',
      'llm_response',
      'tool_call',
      'tool_response',
      'llm_request',
      'llm_response',
      'agent_completed',
    ]);
    const main = events.filter((e) => e.type !== 'nondeterminism');
    const started = payload(main[0], 'agent_started');
    expect(started).toMatchObject({
      agent: 'support',
      entry: 'fixtures/agents/support-agent.ts#supportAgent',
      mode: 'api',
    });
    expect(started.input).toMatchObject({ customerId: 'C-7', apiKey: '[REDACTED]' });
    expect(started.environment.node).toBe(process.version);

    const req1 = payload(main[1], 'llm_request');
    expect(req1).toMatchObject({
      provider: 'openai-compatible',
      operation: 'chat.completions',
      model: 'gpt-4o-mini',
      method: 'POST',
      stream: false,
      occurrence: 0,
    });
    expect(req1.url).toBe(`${stub.openaiBaseUrl}/chat/completions`);
    expect(req1.headers.authorization).toBe('[REDACTED]');
    expect(req1.requestHash).toMatch(/^[0-9a-f]{64}$/);
    expect((req1.body as { tools: unknown[] }).tools).toHaveLength(2);

    const res1 = payload(main[2], 'llm_response');
    expect(main[2]?.parentEventId).toBe(main[1]?.eventId);
    expect(res1).toMatchObject({ status: 200, model: 'gpt-4o-mini', finishReason: 'tool_calls' });
    expect(res1.usage?.inputTokens).toBeGreaterThan(0);
    expect(res1.usage?.outputTokens).toBeGreaterThan(0);
    expect(res1.costUsd).toBeGreaterThan(0);
    expect(res1.latencyMs).toBeGreaterThanOrEqual(0);

    const call1 = payload(main[3], 'tool_call');
    expect(call1).toMatchObject({ tool: 'lookup_order', args: { orderId: 'A-1001' }, occurrence: 0 });
    expect(call1.argsHash).toMatch(/^[0-9a-f]{64}$/);
    const result1 = payload(main[4], 'tool_response');
    expect(main[4]?.parentEventId).toBe(main[3]?.eventId);
    expect(result1.result).toEqual({ orderId: 'A-1001', status: 'shipped', total: 42.5, currency: 'EUR' });

    expect(payload(main[7], 'tool_call')).toMatchObject({
      tool: 'refund_order',
      args: { orderId: 'A-1001', reason: 'late' },
    });
    expect(payload(main[8], 'tool_response').result).toMatchObject({ refunded: true, amount: 42.5 });
    expect(payload(main[10], 'llm_response').finishReason).toBe('stop');

    const done = payload(main[11], 'agent_completed');
    expect(done.output).toEqual(JSON.parse(JSON.stringify(output)));
    expect(done.totals).toMatchObject({ llmCalls: 3, toolCalls: 2 });
    expect(done.totals.inputTokens).toBe(output.usage.promptTokens);
    expect(done.totals.outputTokens).toBe(output.usage.completionTokens);

    const summary = await t.store.summary('agents', traceId);
    expect(summary).toMatchObject({ status: 'completed', agent: 'support', inputTokens: output.usage.promptTokens });
    await checkIntegrity(traceId, events);
  });

  test('streaming agent (anthropic messages, stream: true)', async () => {
    const input = { baseURL: stub.anthropicBaseUrl, apiKey: ANTHROPIC_KEY, topic: 'tides' };
    const { output, traceId } = await recorder.run({ agent: 'streaming', input }, () => streamingAgent(input));
    expect(output.chunks).toBeGreaterThan(1);
    const events = await readTrace(t.store, 'agents', traceId);
    expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_completed']);
    const main = events.filter((e) => e.type !== 'nondeterminism');
    const req = payload(main[1], 'llm_request');
    expect(req).toMatchObject({
      provider: 'anthropic',
      operation: 'messages',
      model: 'claude-haiku-4-5',
      stream: true,
    });
    expect(req.headers['x-api-key'] ?? req.headers.authorization).toBe('[REDACTED]');
    const res = payload(main[2], 'llm_response');
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    expect(res.chunks?.length).toBeGreaterThan(3);
    // the chunks are the exact SSE bytes, in order, with non-decreasing timing
    const text = (res.chunks ?? []).map((c) => c.data).join('');
    expect(text).toContain('event: message_start');
    expect(text).toContain('event: message_stop');
    const times = (res.chunks ?? []).map((c) => c.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // usage split over message_start (input) and message_delta (output) lands in llm_response
    expect(res.usage).toMatchObject({ inputTokens: output.usage.inputTokens, outputTokens: output.usage.outputTokens });
    expect(res.finishReason).toBe(output.stopReason);
    expect(res.model).toBe('claude-haiku-4-5');
    expect(res.costUsd).toBeGreaterThan(0);
    await checkIntegrity(traceId, events);
  });

  test('streaming agent (openai chat completions, final-chunk usage)', async () => {
    const input = { baseURL: stub.openaiBaseUrl, apiKey: KEY, topic: 'tides' };
    const { output, traceId } = await recorder.run({ agent: 'openai-streaming', input }, () =>
      openaiStreamingAgent(input),
    );
    const events = await readTrace(t.store, 'agents', traceId);
    expect(typesOf(events)).toEqual(['agent_started', 'llm_request', 'llm_response', 'agent_completed']);
    const res = payload(events.filter((e) => e.type === 'llm_response')[0], 'llm_response');
    expect(res.chunks?.at(-1)?.data).toContain('[DONE]');
    expect(res.usage).toMatchObject({ inputTokens: output.usage.inputTokens, outputTokens: output.usage.outputTokens });
    expect(res.finishReason).toBe('stop');
    await checkIntegrity(traceId, events);
  });

  test('parallel agent (429 then retry, three parallel tools, nondeterminism)', async () => {
    const input = { baseURL: stub.openaiBaseUrl, apiKey: KEY, city: 'Paris' };
    const { output, traceId } = await recorder.run({ agent: 'parallel', input }, (ctx) =>
      parallelAgent(input, agentCtx(ctx)),
    );
    const events = await readTrace(t.store, 'agents', traceId);
    const main = events.filter((e) => e.type !== 'nondeterminism');
    const types = main.map((e) => e.type);
    expect(types.slice(0, 5)).toEqual(['agent_started', 'llm_request', 'llm_response', 'llm_request', 'llm_response']);
    // the 429, then the SDK's retry of the same request: same hash, next occurrence
    const first = payload(main[1], 'llm_request');
    const rateLimited = payload(main[2], 'llm_response');
    const retry = payload(main[3], 'llm_request');
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.error).toMatchObject({ name: 'HttpError', code: 'rate_limit_exceeded' });
    expect(rateLimited.costUsd).toBeNull();
    expect(retry.requestHash).toBe(first.requestHash);
    expect([first.occurrence, retry.occurrence]).toEqual([0, 1]);
    expect(payload(main[4], 'llm_response')).toMatchObject({ status: 200, finishReason: 'tool_calls' });
    // three tool calls issued before any of them answered, each answered once
    expect(types.slice(5, 11).filter((x) => x === 'tool_call')).toHaveLength(3);
    expect(types.slice(5, 8)).toEqual(['tool_call', 'tool_call', 'tool_call']);
    expect(types.slice(8, 11)).toEqual(['tool_response', 'tool_response', 'tool_response']);
    const calls = main.slice(5, 8).map((e) => payload(e, 'tool_call'));
    expect(calls.map((c) => c.tool).sort()).toEqual(['population', 'timezone', 'weather']);
    for (const c of calls) expect(c.args).toEqual({ city: 'Paris', requestId: output.requestId });
    expect(types.slice(11)).toEqual(['llm_request', 'llm_response', 'agent_completed']);
    expect(payload(main[13], 'agent_completed').totals).toMatchObject({ llmCalls: 3, toolCalls: 3 });

    // the values the agent saw: its randomUUID, Math.random jitter and Date.now are in the nondeterminism record
    const nd = events.filter((e): e is StoredEventOf<'nondeterminism'> => e.type === 'nondeterminism');
    const values = (source: string) => nd.filter((e) => e.payload.source === source).flatMap((e) => e.payload.values);
    expect(values('crypto.randomUUID')).toContain(output.requestId);
    expect(values('Math.random').some((v) => Math.floor((v as number) * 20) === output.jitterMs)).toBe(true);
    expect(values('Date.now').length).toBeGreaterThanOrEqual(2);
    await checkIntegrity(traceId, events);
  });
});
