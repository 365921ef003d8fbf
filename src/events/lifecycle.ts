import { assign, setup, transition, type SnapshotFrom } from 'xstate';
import { LifecycleError } from '../errors.js';
import { REQUEST_TYPES, RESPONSE_OF, TERMINAL_TYPES, type EventType } from './payloads.js';

/**
 * The lifecycle of one trace as an xstate v5 machine:
 *   empty --agent_started--> running --agent_completed|agent_failed--> ended (final)
 * While running, every request (llm_request, tool_call, http_request) opens an entry in `open`, and every response
 * must name an open request of the matching type in its parentEventId, which closes it. Nothing follows the end.
 *
 * Stores keep the persisted form (`LifecycleSnapshot`, a few bytes plus open requests) next to the trace, so an append
 * checks only the new events, never re-reads the trace.
 */
type RequestType = 'llm_request' | 'tool_call' | 'http_request';

type LifecycleEvent =
  | { type: 'START' }
  | { type: 'REQUEST'; eventId: string; kind: RequestType }
  | { type: 'RESPONSE'; parentEventId: string | undefined; answers: RequestType }
  | { type: 'NOTE' }
  | { type: 'END'; outcome: 'completed' | 'failed' };

interface LifecycleContext {
  open: Record<string, RequestType>;
  outcome: 'completed' | 'failed' | null;
}

export const traceLifecycleMachine = setup({
  types: { context: {} as LifecycleContext, events: {} as LifecycleEvent },
  guards: {
    answersOpenRequest: ({ context, event }) =>
      event.type === 'RESPONSE' &&
      event.parentEventId !== undefined &&
      context.open[event.parentEventId] === event.answers,
  },
  actions: {
    openRequest: assign({
      open: ({ context, event }) =>
        event.type === 'REQUEST' ? { ...context.open, [event.eventId]: event.kind } : context.open,
    }),
    closeRequest: assign({
      open: ({ context, event }) => {
        if (event.type !== 'RESPONSE' || event.parentEventId === undefined) return context.open;
        const { [event.parentEventId]: _closed, ...rest } = context.open;
        return rest;
      },
    }),
    // a targetless transition without actions is reported as impossible by `can()`, so notes get a no-op action
    note: () => undefined,
    end: assign({ outcome: ({ event }) => (event.type === 'END' ? event.outcome : null) }),
  },
}).createMachine({
  id: 'traceLifecycle',
  initial: 'empty',
  context: { open: {}, outcome: null },
  states: {
    empty: { on: { START: 'running' } },
    running: {
      on: {
        REQUEST: { actions: 'openRequest' },
        RESPONSE: { guard: 'answersOpenRequest', actions: 'closeRequest' },
        NOTE: { actions: 'note' },
        END: { target: 'ended', actions: 'end' },
      },
    },
    ended: { type: 'final' },
  },
});

export type LifecycleSnapshot = { value: 'empty' | 'running' | 'ended'; context: LifecycleContext };
type Snapshot = SnapshotFrom<typeof traceLifecycleMachine>;

export function initialLifecycle(): LifecycleSnapshot {
  return { value: 'empty', context: { open: {}, outcome: null } };
}

function toMachineEvent(e: { eventId: string; type: EventType; parentEventId?: string | undefined }): LifecycleEvent {
  if (e.type === 'agent_started') return { type: 'START' };
  if (TERMINAL_TYPES.has(e.type))
    return { type: 'END', outcome: e.type === 'agent_completed' ? 'completed' : 'failed' };
  if (REQUEST_TYPES.has(e.type)) return { type: 'REQUEST', eventId: e.eventId, kind: e.type as RequestType };
  const answers = (RESPONSE_OF as Partial<Record<EventType, RequestType>>)[e.type];
  if (answers) return { type: 'RESPONSE', parentEventId: e.parentEventId, answers };
  return { type: 'NOTE' };
}

/** Explains why the machine refused an event, in the words of the rule. */
function violation(
  state: LifecycleSnapshot,
  e: { eventId: string; type: EventType; parentEventId?: string | undefined },
): LifecycleError {
  const who = `Event ${e.eventId} (${e.type})`;
  if (state.value === 'ended') {
    return new LifecycleError(
      `${who} comes after the trace ended with agent_${state.context.outcome ?? 'completed'}.`,
      'A trace ends with exactly one agent_completed or agent_failed; record a new run in a new trace.',
      'nothing-after-end',
      e.eventId,
      e.type,
    );
  }
  if (state.value === 'empty') {
    return new LifecycleError(
      `${who} is the first event of the trace, but a trace must start with agent_started.`,
      'Append agent_started (agent name, input, environment) first, in the same batch or before it.',
      'starts-with-agent_started',
      e.eventId,
      e.type,
    );
  }
  if (e.type === 'agent_started') {
    return new LifecycleError(
      `${who}: the trace already started; agent_started may appear only once.`,
      'Start a new trace for a new run.',
      'single-agent_started',
      e.eventId,
      e.type,
    );
  }
  const answers = (RESPONSE_OF as Partial<Record<EventType, RequestType>>)[e.type];
  if (answers && e.parentEventId === undefined) {
    return new LifecycleError(
      `${who} has no parentEventId, so it answers no ${answers}.`,
      `Set parentEventId to the eventId of the ${answers} this ${e.type} answers.`,
      'response-has-request',
      e.eventId,
      e.type,
    );
  }
  if (answers) {
    const kind = state.context.open[e.parentEventId ?? ''];
    const why = kind
      ? `its parentEventId ${e.parentEventId} is a ${kind}, not a ${answers}`
      : `its parentEventId ${e.parentEventId} is not an unanswered ${answers} in this trace`;
    return new LifecycleError(
      `${who} answers no open request: ${why}.`,
      `Append the ${answers} first, and answer each request exactly once.`,
      'response-has-request',
      e.eventId,
      e.type,
    );
  }
  return new LifecycleError(
    `${who} is not allowed in state ${state.value}.`,
    'Check the event order.',
    'unknown',
    e.eventId,
    e.type,
  );
}

/**
 * Checks a batch of events against the lifecycle, starting from the trace's current state. Returns the new state, or
 * throws a LifecycleError naming the first offending event and the rule it breaks.
 */
export function advanceLifecycle(
  state: LifecycleSnapshot,
  events: Iterable<{ eventId: string; type: EventType; parentEventId?: string | undefined }>,
): LifecycleSnapshot {
  // The machine decides every transition that changes the state (start, end) and everything outside `running`.
  // While running, requests, responses and notes follow the machine's `running` rules written out directly — the same
  // guard (the parent is an open request of the matching type) and the same context updates — on one copy of `open`
  // per batch, instead of a resolveState/can/transition round per event (most of an append's cost otherwise).
  let value = state.value;
  let context = state.context;
  let ownOpen: Record<string, RequestType> | undefined;
  let changed = false;
  for (const e of events) {
    const event = toMachineEvent(e);
    if (value === 'running' && (event.type === 'NOTE' || event.type === 'REQUEST' || event.type === 'RESPONSE')) {
      if (event.type === 'NOTE') continue;
      if (ownOpen === undefined) {
        ownOpen = { ...context.open };
        context = { ...context, open: ownOpen };
      }
      if (event.type === 'REQUEST') {
        // a repeated eventId cannot reach here (the store refuses it first); the machine would overwrite too
        ownOpen[event.eventId] = event.kind;
      } else {
        if (
          !(
            event.parentEventId !== undefined &&
            Object.hasOwn(ownOpen, event.parentEventId) &&
            ownOpen[event.parentEventId] === event.answers
          )
        ) {
          throw violation({ value, context }, e);
        }
        delete ownOpen[event.parentEventId];
      }
      changed = true;
      continue;
    }
    const snapshot: Snapshot = traceLifecycleMachine.resolveState({ value, context });
    if (!snapshot.can(event)) {
      throw violation({ value, context }, e);
    }
    const [next] = transition(traceLifecycleMachine, snapshot, event);
    value = next.value as LifecycleSnapshot['value'];
    context = next.context;
    ownOpen = undefined;
    changed = true;
  }
  if (!changed) return state;
  return { value, context };
}

/** 'running' | 'completed' | 'failed' from a lifecycle state */
export function lifecycleStatus(state: LifecycleSnapshot): 'empty' | 'running' | 'completed' | 'failed' {
  if (state.value === 'ended') return state.context.outcome ?? 'completed';
  return state.value;
}
