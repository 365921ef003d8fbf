import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import {
  advanceLifecycle,
  initialLifecycle,
  traceLifecycleMachine,
  type LifecycleSnapshot,
} from '../../src/events/lifecycle.js';
import { REQUEST_TYPES, RESPONSE_OF, TERMINAL_TYPES, type EventType } from '../../src/events/payloads.js';

type Ev = { eventId: string; type: EventType; parentEventId?: string };

/** The machine alone, one resolveState/can/transition per event: what advanceLifecycle's running fast path must equal. */
function reference(state: LifecycleSnapshot, events: readonly Ev[]): LifecycleSnapshot | 'refused' {
  let snap = traceLifecycleMachine.resolveState(state);
  for (const e of events) {
    const answers = (RESPONSE_OF as Partial<Record<EventType, string>>)[e.type];
    const event =
      e.type === 'agent_started'
        ? { type: 'START' as const }
        : TERMINAL_TYPES.has(e.type)
          ? {
              type: 'END' as const,
              outcome: e.type === 'agent_completed' ? ('completed' as const) : ('failed' as const),
            }
          : REQUEST_TYPES.has(e.type)
            ? { type: 'REQUEST' as const, eventId: e.eventId, kind: e.type as 'llm_request' }
            : answers
              ? { type: 'RESPONSE' as const, parentEventId: e.parentEventId, answers: answers as 'llm_request' }
              : { type: 'NOTE' as const };
    if (!snap.can(event)) return 'refused';
    [snap] = transition(traceLifecycleMachine, snap, event);
  }
  return { value: snap.value as LifecycleSnapshot['value'], context: snap.context };
}

/** deterministic pseudo-random generator, so a failure reproduces */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const TYPES: EventType[] = [
  'agent_started',
  'llm_request',
  'llm_response',
  'tool_call',
  'tool_response',
  'http_request',
  'http_response',
  'decision_made',
  'memory_updated',
  'nondeterminism',
  'agent_completed',
  'agent_failed',
];

describe('lifecycle: the running fast path decides exactly like the machine', () => {
  it('5000 random batches (valid and invalid, across persisted batch boundaries) give the same state or the same refusal', () => {
    const next = rng(20261127);
    let refusedBoth = 0;
    for (let round = 0; round < 5000; round++) {
      let id = 0;
      const ids: Array<{ id: string; type: EventType }> = [];
      const events: Ev[] = [];
      const n = 1 + Math.floor(next() * 12);
      // mostly well-formed: start first, responses to open requests, sometimes wrong parents, repeats and ends
      if (next() < 0.9) events.push({ eventId: `e${id++}`, type: 'agent_started' });
      for (let i = 0; i < n; i++) {
        const type = TYPES[Math.floor(next() * TYPES.length)] as EventType;
        const eventId = `e${id++}`;
        const answers = (RESPONSE_OF as Partial<Record<EventType, EventType>>)[type];
        if (answers) {
          const pool = next() < 0.8 ? ids.filter((x) => x.type === answers) : ids;
          const parent = next() < 0.1 ? undefined : (pool[Math.floor(next() * pool.length)]?.id ?? 'nope');
          events.push({ eventId, type, ...(parent !== undefined ? { parentEventId: parent } : {}) });
        } else {
          events.push({ eventId, type });
          if (REQUEST_TYPES.has(type)) ids.push({ id: eventId, type });
        }
        if (TERMINAL_TYPES.has(type) && next() < 0.7) break;
      }
      // split into two appends, the second starting from the persisted (JSON) state of the first
      const cut = Math.floor(next() * (events.length + 1));
      const first = events.slice(0, cut);
      const second = events.slice(cut);
      const refFirst = reference(initialLifecycle(), first);
      let got: LifecycleSnapshot | 'refused';
      try {
        got = advanceLifecycle(initialLifecycle(), first);
      } catch {
        got = 'refused';
      }
      expect(got).toEqual(refFirst);
      if (got !== 'refused') expect(JSON.stringify(got)).toBe(JSON.stringify(refFirst));
      if (got === 'refused' || refFirst === 'refused') {
        refusedBoth++;
        continue;
      }
      const persisted = JSON.parse(JSON.stringify(got)) as LifecycleSnapshot;
      const before = JSON.stringify(persisted);
      const ref = reference(persisted, second);
      let got2: LifecycleSnapshot | 'refused';
      try {
        got2 = advanceLifecycle(persisted, second);
      } catch {
        got2 = 'refused';
      }
      expect(got2).toEqual(ref);
      if (got2 !== 'refused') expect(JSON.stringify(got2)).toBe(JSON.stringify(ref));
      expect(JSON.stringify(persisted)).toBe(before); // the input state is never modified
      if (got2 === 'refused') refusedBoth++;
    }
    // both kinds of outcome were exercised
    expect(refusedBoth).toBeGreaterThan(100);
    expect(refusedBoth).toBeLessThan(4900);
  });
});
