import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect } from 'vitest';
import type { ProviderAgentOutput } from '../../fixtures/agents/provider-agents.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { diffTraces } from '../../src/diff/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { createRecorder } from '../../src/recorder/index.js';
import { replayTrace } from '../../src/replay/index.js';
import { writeNdjson } from '../../src/transfer/ndjson.js';
import { readAll, tempStore } from '../replay/helpers.js';

/**
 * What every provider-through-its-real-SDK test shares (test/providers/*.test.ts): fake credentials in the
 * environment, a fresh LLM stub and store per test, recording an agent with no provider configuration, and the
 * checks each provider must pass (usage as the SDK saw it, no key stored, a model change classed as one, a replay
 * with the stub stopped).
 */

export const TENANT = 'prov';
export const SLOW = 240_000;

export const SECRETS = {
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
  'GOOGLE_GENERATIVE_AI_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_BEARER_TOKEN_BEDROCK',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_BEDROCK_RUNTIME',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'RETRACE_STORE',
];

export interface ProviderHarness {
  readonly stub: LlmStub;
  recordRun<I>(
    agent: string,
    entry: string,
    input: I,
    fn: (input: I, ctx: { tool: never }) => Promise<ProviderAgentOutput>,
  ): Promise<{ traceId: string; output: ProviderAgentOutput; events: StoredEvent[] }>;
  noSecretsStored(traceId: string): Promise<void>;
  replayStopped(traceId: string): Promise<Awaited<ReturnType<typeof replayTrace>>>;
  modelChangeClassified(a: string, b: string): Promise<void>;
  readEvents(traceId: string): Promise<StoredEvent[]>;
}

/** Registers the per-test setup (call at the top of a test file) and returns the checks bound to it. */
export function providerHarness(): ProviderHarness {
  let saved: Record<string, string | undefined> = {};
  let stub: LlmStub | undefined;
  let st: Awaited<ReturnType<typeof tempStore>> | undefined;
  const current = () => {
    if (!stub || !st) throw new Error('providerHarness: used outside a test');
    return { stub, st };
  };

  beforeEach(async () => {
    saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
    for (const n of ENV_NAMES) delete process.env[n];
    process.env.AZURE_OPENAI_API_KEY = SECRETS.azure;
    process.env.GEMINI_API_KEY = SECRETS.gemini;
    process.env.GOOGLE_GENERATIVE_AI_API_KEY = SECRETS.gemini;
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
    await stub?.close().catch(() => undefined);
    await st?.cleanup();
    stub = undefined;
    st = undefined;
  });

  return {
    get stub() {
      return current().stub;
    },

    async recordRun(agent, entry, input, fn) {
      const { st } = current();
      const recorder = createRecorder({ store: st.store, tenant: TENANT });
      try {
        const r = await recorder.run({ agent, entry, input }, (ctx) =>
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
    },

    async noSecretsStored(traceId) {
      const { st } = current();
      const raw = [join(st.dir, 'retrace.db'), join(st.dir, 'retrace.db-wal')]
        .filter((p) => existsSync(p))
        .map((p) => readFileSync(p).toString('latin1'))
        .join('\n');
      const out = new PassThrough();
      const parts: Buffer[] = [];
      out.on('data', (b: Buffer) => parts.push(b));
      await writeNdjson(st.store.read(TENANT, traceId), out as never);
      const exported = Buffer.concat(parts).toString('utf8');
      expect(raw.length).toBeGreaterThan(0);
      expect(exported.length).toBeGreaterThan(0);
      for (const [name, secret] of Object.entries(SECRETS)) {
        expect(raw.includes(secret), `${name} key in the store file`).toBe(false);
        expect(exported.includes(secret), `${name} key in the export`).toBe(false);
      }
    },

    async replayStopped(traceId) {
      const { stub, st } = current();
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
    },

    async modelChangeClassified(a, b) {
      const { st } = current();
      const report = await diffTraces(st.store.read(TENANT, a), st.store.read(TENANT, b));
      expect(report.classCounts['model-parameter-change'] ?? 0).toBeGreaterThan(0);
      expect(report.classCounts['tool-argument-drift']).toBeUndefined();
    },

    readEvents(traceId) {
      return readAll(current().st.store, TENANT, traceId);
    },
  };
}

type EventOf<T extends StoredEvent['type']> = Extract<StoredEvent, { type: T }>;

export function llm(events: readonly StoredEvent[]): {
  requests: EventOf<'llm_request'>[];
  responses: EventOf<'llm_response'>[];
  http: StoredEvent[];
} {
  const requests = events.flatMap((e) => (e.type === 'llm_request' ? [e] : []));
  const responses = events.flatMap((e) => (e.type === 'llm_response' ? [e] : []));
  const http = events.filter((e) => e.type === 'http_request');
  return { requests, responses, http };
}

/** The recorded token counts, call by call, equal what the SDK reported (and so what the stub sent). */
export function expectUsage(events: StoredEvent[], output: ProviderAgentOutput): void {
  const { responses } = llm(events);
  expect(output.usage.length).toBe(responses.length);
  expect(output.usage.every((u) => u.input > 0 && u.output > 0)).toBe(true);
  expect(responses.map((r) => (r.type === 'llm_response' ? r.payload.usage?.outputTokens : -1))).toEqual(
    output.usage.map((u) => u.output),
  );
  expect(responses.map((r) => (r.type === 'llm_response' ? r.payload.usage?.inputTokens : -1))).toEqual(
    output.usage.map((u) => u.input),
  );
}
