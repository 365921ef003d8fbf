import { GENESIS_HASH, StoredEventSchema, type StoredEvent } from '../../src/events/envelope.js';
import type { EventType, PayloadInputOf } from '../../src/events/payloads.js';
import { sha256Hex } from '../../src/hashing/canonical-json.js';
import { eventHash } from '../../src/hashing/chain.js';

/**
 * Deterministic stored traces for diff tests: event ids derive from the trace id and seq, timestamps from a fixed
 * origin, and the hash chain is real, so every event passes StoredEventSchema and golden files never churn.
 */
export class StoredTraceBuilder {
  readonly events: StoredEvent[] = [];
  private clock: number;
  private lastId: string | undefined;

  constructor(
    readonly traceId: string,
    readonly options: { tenantId?: string; startMs?: number; stepMs?: number } = {},
  ) {
    this.clock = options.startMs ?? Date.UTC(2026, 0, 1, 12, 0, 0);
  }

  add<T extends EventType>(type: T, payload: PayloadInputOf<T>, opts: { parent?: boolean } = {}): this {
    const seq = this.events.length;
    const prev = this.events[seq - 1];
    const h = sha256Hex(`${this.traceId}/${seq}`);
    const eventId = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    const unsealed: Record<string, unknown> & { prevHash: string } = {
      schemaVersion: 1,
      eventId,
      tenantId: this.options.tenantId ?? 'acme',
      traceId: this.traceId,
      seq,
      type,
      timestamp: new Date(this.clock).toISOString(),
      ...(opts.parent && this.lastId ? { parentEventId: this.lastId } : {}),
      payload,
      prevHash: prev?.hash ?? GENESIS_HASH,
    };
    this.clock += this.options.stepMs ?? 10;
    const parsed = StoredEventSchema.safeParse({ ...unsealed, hash: eventHash(unsealed) });
    if (!parsed.success) throw new Error(`fixture event ${seq} (${type}) is invalid: ${parsed.error.message}`);
    // re-hash after zod applied defaults, so the chain matches what a store would hold
    const event = parsed.data as unknown as StoredEvent;
    const { hash: _h, ...rest } = event as unknown as Record<string, unknown> & { prevHash: string };
    (event as { hash: string }).hash = eventHash(rest);
    this.events.push(event);
    this.lastId = eventId;
    return this;
  }
}

const ENV = {
  node: 'v20.20.2',
  platform: 'linux',
  arch: 'x64',
  retraceVersion: '0.1.0',
  hostname: 'ci-runner-1',
  cwd: '/srv/agent',
};

export interface ScenarioOptions {
  traceId: string;
  tenantId?: string;
  startMs?: number;
  /** added to every latency and used in provider ids, to simulate a second real run */
  jitter?: number;
  question?: string;
  searchQuery?: string;
  /** an extra tool call (fetch_page) after the search */
  extraTool?: boolean;
  /** the run fails after the search instead of answering */
  fail?: boolean;
  /** a second search round before answering */
  secondRound?: boolean;
  searchResult?: unknown;
}

const SYSTEM = 'You are a helpful support agent. Use the search tool before answering.';

/** A small support agent run: question → LLM picks a tool → search → LLM answers. */
export function supportRun(o: ScenarioOptions): StoredEvent[] {
  const j = o.jitter ?? 0;
  const t = new StoredTraceBuilder(o.traceId, { tenantId: o.tenantId, startMs: o.startMs });
  const question = o.question ?? 'How do I reset my password?';
  const query = o.searchQuery ?? 'reset password';
  const messages: unknown[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: question },
  ];
  t.add('agent_started', {
    agent: 'support-agent',
    entry: 'agents/support.js#run',
    mode: 'api',
    input: { question },
    environment: { ...ENV, hostname: j ? `ci-runner-${j}` : ENV.hostname },
  });
  t.add('nondeterminism', { source: 'Date.now', values: [1767268800000 + j, 1767268800012 + j] });
  const llm = (model: string, msgs: unknown[], reply: Record<string, unknown>, n: number): void => {
    t.add('llm_request', {
      provider: 'openai',
      operation: 'chat.completions',
      model,
      method: 'POST',
      url: 'https://api.openai.com/v1/chat/completions',
      headers: { 'content-type': 'application/json', 'x-stainless-retry-count': '0' },
      body: {
        model,
        temperature: 0,
        messages: structuredClone(msgs),
        tools: [{ type: 'function', function: { name: 'search' } }],
      },
      stream: false,
      requestHash: sha256Hex(JSON.stringify(msgs)),
      occurrence: 0,
    });
    t.add(
      'llm_response',
      {
        provider: 'openai',
        operation: 'chat.completions',
        model,
        status: 200,
        headers: { 'x-request-id': `req_${n}_${j}` },
        body: {
          id: `chatcmpl-${n}${j}`,
          created: 1767268800 + j,
          choices: [{ index: 0, message: reply, finish_reason: 'stop' }],
        },
        usage: { inputTokens: 120 + n * 40, outputTokens: 20 + n },
        costUsd: 0.0001 * (n + 1),
        latencyMs: 400 + n * 10 + j,
        finishReason: 'stop',
      },
      { parent: true },
    );
  };
  const tool = (name: string, args: Record<string, unknown>, result: unknown): void => {
    t.add('tool_call', { tool: name, args, argsHash: sha256Hex(JSON.stringify(args)).slice(0, 16), occurrence: 0 });
    t.add('tool_response', { tool: name, result, latencyMs: 30 + j }, { parent: true });
  };
  const callSearch = {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'search', arguments: JSON.stringify({ query }) } },
    ],
  };
  llm('gpt-4o-mini', messages, callSearch, 0);
  const result = o.searchResult ?? {
    hits: [{ title: 'Resetting your password', url: 'https://help.example.com/reset' }],
  };
  tool('search', { query, limit: 3 }, result);
  messages.push(callSearch, { role: 'tool', tool_call_id: 'call_1', content: JSON.stringify(result) });
  if (o.extraTool) {
    const page = { text: 'Go to Settings → Security → Reset password.' };
    tool('fetch_page', { url: 'https://help.example.com/reset' }, page);
    messages.push({ role: 'tool', tool_call_id: 'call_2', content: JSON.stringify(page) });
  }
  if (o.fail) {
    t.add('agent_failed', {
      error: {
        name: 'RateLimitError',
        message: '429 Too Many Requests',
        stack: `RateLimitError: 429\n    at run (/srv/agent/agents/support.js:${40 + j}:11)`,
      },
      totals: { llmCalls: 1, toolCalls: 1, inputTokens: 120, outputTokens: 20, costUsd: 0.0001, durationMs: 900 + j },
    });
    return t.events;
  }
  if (o.secondRound) {
    llm('gpt-4o-mini', messages, callSearch, 1);
    tool('search', { query: 'password reset email not received', limit: 3 }, { hits: [] });
    messages.push(callSearch, { role: 'tool', tool_call_id: 'call_3', content: '{"hits":[]}' });
  }
  const answer = 'Open Settings → Security and choose "Reset password".';
  llm('gpt-4o-mini', messages, { role: 'assistant', content: answer }, o.secondRound ? 2 : 1);
  t.add('agent_completed', {
    output: { answer },
    totals: { llmCalls: 2, toolCalls: 1, inputTokens: 280, outputTokens: 41, costUsd: 0.0003, durationMs: 1200 + j },
  });
  return t.events;
}

/** The fixture pairs the issue lists; each is [A, B]. */
export const FIXTURE_PAIRS: Record<string, () => [StoredEvent[], StoredEvent[]]> = {
  identical: () => [supportRun({ traceId: 'run-a' }), supportRun({ traceId: 'run-b' })],
  'only-timestamps': () => [
    supportRun({ traceId: 'run-a' }),
    supportRun({ traceId: 'run-b', startMs: Date.UTC(2026, 0, 2, 9, 30), jitter: 7 }),
  ],
  'prompt-changed': () => [
    supportRun({ traceId: 'run-a' }),
    supportRun({ traceId: 'run-b', question: 'How do I change my password?' }),
  ],
  'tool-call-inserted': () => [supportRun({ traceId: 'run-a' }), supportRun({ traceId: 'run-b', extraTool: true })],
  'tool-args-changed': () => [
    supportRun({ traceId: 'run-a' }),
    supportRun({ traceId: 'run-b', searchQuery: 'password reset' }),
  ],
  'failed-vs-completed': () => [supportRun({ traceId: 'run-a' }), supportRun({ traceId: 'run-b', fail: true })],
  'different-lengths': () => [supportRun({ traceId: 'run-a' }), supportRun({ traceId: 'run-b', secondRound: true })],
  'one-empty': () => [supportRun({ traceId: 'run-a' }), []],
};
