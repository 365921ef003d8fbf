import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { advanceLifecycle, initialLifecycle, lifecycleStatus } from '../../src/events/lifecycle.js';
import type { EventType } from '../../src/events/payloads.js';

const ev = (type: EventType, parentEventId?: string) => ({
  eventId: randomUUID(),
  type,
  ...(parentEventId ? { parentEventId } : {}),
});

describe('trace lifecycle machine', () => {
  it('accepts start → requests/responses/notes → completed', () => {
    const start = ev('agent_started');
    const llm = ev('llm_request');
    const tool = ev('tool_call');
    const http = ev('http_request');
    const state = advanceLifecycle(initialLifecycle(), [
      start,
      llm,
      tool,
      ev('decision_made'),
      ev('tool_response', tool.eventId),
      http,
      ev('http_response', http.eventId),
      ev('llm_response', llm.eventId),
      ev('memory_updated'),
      ev('nondeterminism'),
      ev('agent_completed'),
    ]);
    expect(lifecycleStatus(state)).toBe('completed');
    expect(state.context.open).toEqual({});
  });

  it('keeps unanswered requests open across batches (the persisted state carries them)', () => {
    const llm = ev('llm_request');
    const s1 = advanceLifecycle(initialLifecycle(), [ev('agent_started'), llm]);
    const persisted = JSON.parse(JSON.stringify(s1)) as typeof s1;
    expect(persisted.context.open[llm.eventId]).toBe('llm_request');
    const s2 = advanceLifecycle(persisted, [ev('llm_response', llm.eventId), ev('agent_failed')]);
    expect(lifecycleStatus(s2)).toBe('failed');
  });

  it.each([
    [
      'a response to a request of another kind',
      (t: string) => [ev('agent_started'), { ...ev('tool_call'), eventId: t }, ev('llm_response', t)],
      'response-has-request',
    ],
    [
      'a response answered twice',
      (t: string) => [
        ev('agent_started'),
        { ...ev('llm_request'), eventId: t },
        ev('llm_response', t),
        ev('llm_response', t),
      ],
      'response-has-request',
    ],
    ['a second agent_started', () => [ev('agent_started'), ev('agent_started')], 'single-agent_started'],
    ['a note before the start', () => [ev('decision_made')], 'starts-with-agent_started'],
    [
      'a note after the end',
      () => [ev('agent_started'), ev('agent_completed'), ev('decision_made')],
      'nothing-after-end',
    ],
    ['a second end', () => [ev('agent_started'), ev('agent_failed'), ev('agent_completed')], 'nothing-after-end'],
  ])('rejects %s, naming the rule', (_name, make, rule) => {
    const events = make(randomUUID());
    expect(() => advanceLifecycle(initialLifecycle(), events)).toThrow(
      expect.objectContaining({ code: 'LIFECYCLE_VIOLATION', rule }),
    );
  });
});

describe('stored event versions', () => {
  it('refuses an event written by a newer format with a message that says to upgrade', async () => {
    const { safeParseStoredEvent } = await import('../../src/events/validate.js');
    const result = safeParseStoredEvent({ schemaVersion: 99, type: 'decision_made' });
    expect(result).toMatchObject({ ok: false, field: 'schemaVersion' });
    expect(result.ok ? '' : result.text).toMatch(/newer retrace.*upgrade/);
  });
});
