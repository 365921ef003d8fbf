import { describe, expect, it } from 'vitest';
import { buildReplayCache } from '../../src/replay/cache/build.js';
import { ReplayCache } from '../../src/replay/cache/lookup.js';
import { createReplayHooks, type ReplayNotice } from '../../src/replay/hooks.js';
import {
  detectLlmEndpoint,
  normalizeRequest,
  OccurrenceCounter,
  requestHash,
  toolArgsHash,
  type NormalizationOptions,
} from '../../src/hashing/index.js';
import type { InterceptedRequest } from '../../src/recorder/hooks.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { readAll, tempStore } from './helpers.js';

const OPENAI = 'https://api.openai.com/v1/chat/completions';

function intercepted(
  url: string,
  body: unknown,
  counter: OccurrenceCounter,
  options?: NormalizationOptions,
  providers = [{ baseUrl: 'http://127.0.0.1:4000/v1', provider: 'openai-compatible' as const }],
): InterceptedRequest {
  const text = JSON.stringify(body);
  const endpoint = detectLlmEndpoint('POST', url, providers);
  const normalized = normalizeRequest({ method: 'POST', url, body: text }, endpoint, options);
  const hash = requestHash(normalized);
  return {
    method: 'POST',
    url,
    headers: {},
    body: text,
    ...(endpoint ? { endpoint } : {}),
    normalized,
    requestHash: hash,
    occurrence: counter.next(hash),
  };
}

/** A trace whose llm_request events carry hashes computed the way the recorder computes them. */
function llmTrace(
  bodies: Array<{ body: Record<string, unknown>; answer: string; status?: number; chunks?: string[] }>,
  url = OPENAI,
) {
  const b = new TraceBuilder('cache-test');
  const counter = new OccurrenceCounter();
  for (const { body, answer, status, chunks } of bodies) {
    const req = intercepted(url, body, counter);
    const reqId = b.push({
      type: 'llm_request',
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        method: 'POST',
        url,
        headers: {},
        body,
        stream: chunks !== undefined,
        requestHash: req.requestHash,
        occurrence: req.occurrence,
      },
    });
    b.push({
      type: 'llm_response',
      parentEventId: reqId,
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model: 'gpt-4o-mini',
        status: status ?? 200,
        headers: { 'content-type': chunks ? 'text/event-stream' : 'application/json' },
        ...(chunks
          ? { chunks: chunks.map((data, i) => ({ t: i * 5, data })) }
          : { body: { choices: [{ message: { role: 'assistant', content: answer } }] } }),
        costUsd: null,
        latencyMs: 3,
      },
    });
  }
  return b;
}

async function stored(b: TraceBuilder): Promise<StoredEvent[]> {
  const { store, cleanup } = await tempStore();
  try {
    await store.append('t', 'tr-cache', b.events);
    return await readAll(store, 't', 'tr-cache');
  } finally {
    await cleanup();
  }
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('replay caches', () => {
  it('keys LLM answers by request hash + occurrence, so identical requests replay in order', async () => {
    const events = await stored(
      llmTrace([
        { body: ask('hi'), answer: 'first' },
        { body: ask('hi'), answer: 'second' },
        { body: ask('other'), answer: 'third' },
      ]).complete(),
    );
    const data = buildReplayCache(events);
    expect(data.exchanges.map((x) => x.occurrence)).toEqual([0, 1, 0]);
    const cache = new ReplayCache(data);
    const counter = new OccurrenceCounter();
    const a = intercepted(OPENAI, ask('hi'), counter);
    const b = intercepted(OPENAI, ask('hi'), counter);
    expect(cache.takeExchange(b.requestHash, b.occurrence)?.seq).toBe(
      events.find((e) => e.type === 'llm_request' && e.payload.occurrence === 1)?.seq,
    );
    expect(cache.takeExchange(a.requestHash, a.occurrence)?.response?.body).toContain('first');
  });

  it('default normalization survives a changed base URL and changed request ids / user fields', async () => {
    const events = await stored(
      llmTrace([{ body: ask('hi', { user: 'u-1', metadata: { requestId: 'r-1' } }), answer: 'yes' }]).complete(),
    );
    const cache = new ReplayCache(buildReplayCache(events));
    const moved = intercepted(
      'http://127.0.0.1:4000/v1/chat/completions',
      ask('hi', { user: 'u-2', metadata: { requestId: 'r-999' } }),
      new OccurrenceCounter(),
    );
    expect(cache.takeExchange(moved.requestHash, moved.occurrence)?.response?.body).toContain('yes');
  });

  it('custom normalization re-keys the recording (drop a provider field)', async () => {
    const options: NormalizationOptions = { dropBodyFields: { openai: ['temperature'] } };
    const events = await stored(llmTrace([{ body: ask('hi', { temperature: 0.2 }), answer: 'warm' }]).complete());
    const strict = new ReplayCache(buildReplayCache(events));
    const relaxed = new ReplayCache(buildReplayCache(events, { normalization: options }));
    const live = intercepted(OPENAI, ask('hi', { temperature: 0.9 }), new OccurrenceCounter(), options);
    expect(relaxed.takeExchange(live.requestHash, live.occurrence)).toBeDefined();
    const plain = intercepted(OPENAI, ask('hi', { temperature: 0.9 }), new OccurrenceCounter());
    expect(strict.takeExchange(plain.requestHash, plain.occurrence)).toBeUndefined();
  });

  it('builds the tool cache (tool + argsHash + occurrence) and the value queues per source', async () => {
    const b = new TraceBuilder('tools');
    for (const [i, args] of [{ q: 'a' }, { q: 'a' }, { q: 'b' }].entries()) {
      const call = b.push({
        type: 'tool_call',
        payload: { tool: 'search', args, argsHash: toolArgsHash('search', args), occurrence: i === 1 ? 1 : 0 },
      });
      b.push({
        type: 'tool_response',
        parentEventId: call,
        payload: { tool: 'search', result: { n: i }, latencyMs: 1 },
      });
    }
    b.push({ type: 'nondeterminism', payload: { source: 'Math.random', values: [0.1, 0.2] } });
    b.push({ type: 'nondeterminism', payload: { source: 'crypto.randomUUID', values: ['u-1'] } });
    b.push({ type: 'nondeterminism', payload: { source: 'Math.random', values: [0.3] } });
    const cache = new ReplayCache(buildReplayCache(await stored(b.complete())));
    expect(cache.takeTool('search', toolArgsHash('search', { q: 'a' }), 1)?.answer).toEqual({ result: { n: 1 } });
    expect(cache.takeTool('search', toolArgsHash('search', { q: 'b' }), 0)?.answer).toEqual({ result: { n: 2 } });
    expect(cache.takeTool('search', toolArgsHash('search', { q: 'c' }), 0)).toBeUndefined();
    expect([
      cache.nextValue('Math.random'),
      cache.nextValue('Math.random'),
      cache.nextValue('Math.random'),
      cache.nextValue('Math.random'),
    ]).toEqual([0.1, 0.2, 0.3, undefined]);
    expect(cache.nextValue('crypto.randomUUID')).toBe('u-1');
    expect(cache.nextValue('Date.now')).toBeUndefined();
  });
});

describe('replay hooks: miss policies, until, override, streams', () => {
  const trace = () =>
    llmTrace([
      { body: ask('step one'), answer: 'one' },
      { body: ask('step two'), answer: 'two', chunks: ['data: {"a":1}\n\n', 'data: {"a":2}\n\n', 'data: [DONE]\n\n'] },
      { body: ask('step three'), answer: 'three', status: 429 },
    ]).complete();

  async function setup(options: Partial<Parameters<typeof createReplayHooks>[0]> = {}) {
    const events = await stored(trace());
    const notices: ReplayNotice[] = [];
    const hooks = createReplayHooks({
      cache: new ReplayCache(buildReplayCache(events)),
      onMiss: 'error',
      fast: true,
      report: (n) => notices.push(n),
      ...options,
    });
    return { events, hooks, notices, counter: new OccurrenceCounter() };
  }

  it('serves recorded responses, streams chunk by chunk, and HTTP error statuses as responses', async () => {
    const { hooks, counter } = await setup({ fast: false, sleep: () => new Promise((r) => setImmediate(r)) });
    const r1 = await hooks.respondHttp(intercepted(OPENAI, ask('step one'), counter));
    expect(await r1?.json()).toEqual({ choices: [{ message: { role: 'assistant', content: 'one' } }] });
    const r2 = await hooks.respondHttp(intercepted(OPENAI, ask('step two'), counter));
    expect(r2?.headers.get('content-type')).toBe('text/event-stream');
    const reader = r2!.body!.getReader();
    const parts: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(new TextDecoder().decode(value));
    }
    expect(parts).toEqual(['data: {"a":1}\n\n', 'data: {"a":2}\n\n', 'data: [DONE]\n\n']);
    const r3 = await hooks.respondHttp(intercepted(OPENAI, ask('step three'), counter));
    expect(r3?.status).toBe(429);
    expect(hooks.misses).toEqual([]);
  });

  it('error policy: stops at the first unknown request and names it with a diff against the nearest recorded one', async () => {
    const { hooks, events, notices, counter } = await setup();
    await hooks.respondHttp(intercepted(OPENAI, ask('step one'), counter));
    await expect(hooks.respondHttp(intercepted(OPENAI, ask('step 2 changed'), counter))).rejects.toMatchObject({
      code: 'REPLAY_MISS',
    });
    const miss = hooks.misses[0]!;
    expect(miss.position).toBe(1);
    expect(miss.nearest?.seq).toBe(events.filter((e) => e.type === 'llm_request')[1]!.seq);
    expect(miss.diff).toEqual([
      { op: 'replace', path: '/body/messages/0/content', oldValue: 'step two', value: 'step 2 changed' },
    ]);
    // stopped: later requests fail too, without new misses
    await expect(hooks.respondHttp(intercepted(OPENAI, ask('step three'), counter))).rejects.toMatchObject({
      code: 'REPLAY_MISS',
    });
    expect(hooks.misses).toHaveLength(1);
    expect(notices.filter((n) => n.type === 'miss')).toHaveLength(1);
  });

  it('nearest policy: serves the recorded step at the same position and flags the drift', async () => {
    const { hooks, events, counter } = await setup({ onMiss: 'nearest' });
    const r = await hooks.respondHttp(intercepted(OPENAI, ask('step ONE'), counter));
    expect(await r?.json()).toMatchObject({ choices: [{ message: { content: 'one' } }] });
    expect(hooks.misses[0]).toMatchObject({
      policy: 'nearest',
      position: 0,
      servedSeq: events.find((e) => e.type === 'llm_request')!.seq,
    });
  });

  it('live policy: lets the request through (undefined) and says so once', async () => {
    let live = 0;
    const { hooks, counter } = await setup({ onMiss: 'live', onLive: () => live++ });
    expect(await hooks.respondHttp(intercepted(OPENAI, ask('new'), counter))).toBeUndefined();
    expect(await hooks.respondHttp(intercepted(OPENAI, ask('newer'), counter))).toBeUndefined();
    expect(live).toBe(1);
    expect(hooks.misses.map((m) => m.policy)).toEqual(['live', 'live']);
  });

  it('until: stops after event N, or forks to live with onMiss live', async () => {
    const events = await stored(trace());
    const firstResponse = events.find((e) => e.type === 'llm_response')!.seq;
    const stop = await setup({ until: firstResponse });
    await stop.hooks.respondHttp(intercepted(OPENAI, ask('step one'), stop.counter));
    await expect(stop.hooks.respondHttp(intercepted(OPENAI, ask('step two'), stop.counter))).rejects.toMatchObject({
      code: 'REPLAY_STOPPED',
    });
    expect(stop.notices).toContainEqual({ type: 'until-reached', seq: firstResponse });
    const fork = await setup({ until: firstResponse, onMiss: 'live' });
    expect(await fork.hooks.respondHttp(intercepted(OPENAI, ask('step one'), fork.counter))).toBeDefined();
    expect(await fork.hooks.respondHttp(intercepted(OPENAI, ask('step two'), fork.counter))).toBeUndefined();
    expect(fork.notices).toContainEqual({ type: 'forked', atSeq: firstResponse });
  });

  it('override: replaces one recorded response body', async () => {
    const events = await stored(trace());
    const requestSeq = events.find((e) => e.type === 'llm_request')!.seq;
    const { hooks, counter, notices } = await setup({
      override: { requestSeq, body: { choices: [{ message: { role: 'assistant', content: 'edited' } }] } },
    });
    const r = await hooks.respondHttp(intercepted(OPENAI, ask('step one'), counter));
    expect(await r?.json()).toMatchObject({ choices: [{ message: { content: 'edited' } }] });
    expect(notices).toContainEqual({ type: 'override-served', requestSeq });
  });

  it('tools: recorded answers and errors, pure tools run live, misses follow the policy', async () => {
    const b = new TraceBuilder('tools');
    const call = b.push({
      type: 'tool_call',
      payload: { tool: 'lookup', args: { id: 1 }, argsHash: toolArgsHash('lookup', { id: 1 }), occurrence: 0 },
    });
    b.push({
      type: 'tool_response',
      parentEventId: call,
      payload: { tool: 'lookup', error: { name: 'NotFound', message: 'no 1' }, latencyMs: 1 },
    });
    const cache = () =>
      new ReplayCache(buildReplayCache(b.events.map((e, seq) => ({ ...e, seq })) as unknown as StoredEvent[]));
    const strict = createReplayHooks({ cache: cache(), onMiss: 'error', fast: true, report: () => undefined });
    expect(
      await strict.respondTool({
        tool: 'lookup',
        args: { id: 1 },
        argsHash: toolArgsHash('lookup', { id: 1 }),
        occurrence: 0,
        pure: false,
      }),
    ).toEqual({ error: { name: 'NotFound', message: 'no 1' } });
    expect(
      await strict.respondTool({
        tool: 'lookup',
        args: { id: 2 },
        argsHash: toolArgsHash('lookup', { id: 2 }),
        occurrence: 0,
        pure: true,
      }),
    ).toBe('run-live');
    const missed = await strict.respondTool({
      tool: 'lookup',
      args: { id: 3 },
      argsHash: toolArgsHash('lookup', { id: 3 }),
      occurrence: 0,
      pure: false,
    });
    expect(missed).toMatchObject({ error: { name: 'ReplayMissError' } });
    expect(strict.misses[0]?.diff).toEqual([{ op: 'replace', path: '/id', oldValue: 1, value: 3 }]);
    const nearest = createReplayHooks({ cache: cache(), onMiss: 'nearest', fast: true, report: () => undefined });
    expect(
      await nearest.respondTool({
        tool: 'lookup',
        args: { id: 3 },
        argsHash: toolArgsHash('lookup', { id: 3 }),
        occurrence: 0,
        pure: false,
      }),
    ).toMatchObject({ error: { name: 'NotFound' } });
  });
});
