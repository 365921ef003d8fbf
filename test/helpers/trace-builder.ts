import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/events/envelope.js';

/**
 * Builds valid event sequences for tests: `new TraceBuilder('agent').llm('gpt-4o-mini').tool('search').complete()`.
 * Timestamps advance by 1 ms per event from a fixed origin so tests are reproducible.
 */
export class TraceBuilder {
  readonly events: NewEvent[] = [];
  private clock: number;

  constructor(agent = 'test-agent', options: { startMs?: number; input?: unknown } = {}) {
    this.clock = options.startMs ?? Date.UTC(2026, 0, 1);
    this.push({
      type: 'agent_started',
      payload: {
        agent,
        entry: 'fixtures/agents/support-agent.js#supportAgent',
        mode: 'api',
        input: options.input ?? { question: 'hello' },
        environment: { node: 'v20.20.2', platform: 'linux', arch: 'x64', retraceVersion: '0.1.0' },
      },
    });
  }

  private ts(): string {
    this.clock += 1;
    return new Date(this.clock).toISOString();
  }

  push(e: { type: NewEvent['type']; payload: unknown; parentEventId?: string }): string {
    const eventId = randomUUID();
    this.events.push({ eventId, timestamp: this.ts(), ...e } as NewEvent);
    return eventId;
  }

  llm(model = 'gpt-4o-mini', text = 'ok', tokens = { inputTokens: 10, outputTokens: 5 }): this {
    const req = this.push({
      type: 'llm_request',
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model,
        method: 'POST',
        url: 'https://api.openai.com/v1/chat/completions',
        headers: {},
        body: { model, messages: [{ role: 'user', content: text }] },
        stream: false,
        requestHash: 'h'.repeat(8),
        occurrence: 0,
      },
    });
    this.push({
      type: 'llm_response',
      parentEventId: req,
      payload: {
        provider: 'openai',
        operation: 'chat.completions',
        model,
        status: 200,
        body: { choices: [{ message: { role: 'assistant', content: text } }] },
        usage: tokens,
        costUsd: 0.0001,
        latencyMs: 12,
        finishReason: 'stop',
      },
    });
    return this;
  }

  tool(name = 'search', args: unknown = { q: 'x' }, result: unknown = { hits: 1 }): this {
    const call = this.push({
      type: 'tool_call',
      payload: { tool: name, args, argsHash: 'a'.repeat(8), occurrence: 0 },
    });
    this.push({ type: 'tool_response', parentEventId: call, payload: { tool: name, result, latencyMs: 3 } });
    return this;
  }

  decision(text = 'route to billing'): this {
    this.push({ type: 'decision_made', payload: { decision: text } });
    return this;
  }

  complete(output: unknown = { answer: 'done' }): this {
    this.push({
      type: 'agent_completed',
      payload: {
        output,
        totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 5 },
      },
    });
    return this;
  }

  fail(message = 'boom'): this {
    this.push({
      type: 'agent_failed',
      payload: {
        error: { name: 'Error', message },
        totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 5 },
      },
    });
    return this;
  }
}

export function tempDir(prefix = 'retrace-test-'): string {
  // test/.tmp keeps test files inside the repo's ignored folder, so the permission-model tests can reason about paths
  return mkdtempSync(join(tmpdir(), prefix));
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
