import { expect, test } from 'vitest';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder } from '../../src/recorder/index.js';
import { readTrace, tempStore } from './helpers.js';

/**
 * Frameworks call a tool with its arguments and a context of their own — LangChain's RunnableConfig (with an
 * AbortSignal), the Vercel AI SDK's `execute(args, options)`, the Agents SDK's run context. A recorder.tool handed to
 * them as is records the call and runs the tool; before, hashing the AbortSignal threw before anything was recorded.
 */
test('a tool called with (args, context holding an AbortSignal and a class instance) is recorded and runs', async () => {
  const t = tempStore();
  try {
    const recorder = createRecorder({ store: t.store, tenant: 'tools' });
    class CallbackManager {
      handlers = [() => undefined];
    }
    const lookup = recorder.tool('lookup', async (args: { id: string }, _config: unknown) => ({
      id: args.id,
      ok: true,
    }));
    const { traceId, output } = await recorder.run({ agent: 'framework' }, () =>
      lookup({ id: 'A-1' }, { signal: new AbortController().signal, callbacks: new CallbackManager(), runName: 'x' }),
    );
    expect(output).toEqual({ id: 'A-1', ok: true });
    const events = await readTrace(t.store, 'tools', traceId);
    const call = events.find((e): e is StoredEventOf<'tool_call'> => e.type === 'tool_call');
    if (!call) throw new Error('no tool_call recorded');
    expect(call.payload.tool).toBe('lookup');
    expect((call.payload.args as unknown[])[0]).toEqual({ id: 'A-1' });
    expect(call.payload.argsHash).toMatch(/^[0-9a-f]{16,}$/);
    expect(events.find((e) => e.type === 'tool_response')?.payload).toMatchObject({ result: { id: 'A-1', ok: true } });
    await recorder.close();
  } finally {
    await t.cleanup();
  }
});
