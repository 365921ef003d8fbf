import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/**
 * `retrace replay`: option validation and trace lookup through the built binary. A full record → replay round trip
 * through dist/ is not asserted here yet: the built sandbox (dist/sandbox/runtime.js) currently exits 72 where the
 * same replay from source succeeds (reported to the replay owner); test/replay covers the engine itself.
 */
const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };

beforeAll(async () => {
  await Promise.all([ensureBuilt(), seed(tmp.url, { recorded: new TraceBuilder('support').llm().complete().events })]);
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace replay (input errors)', () => {
  it.each([
    [['replay', 'nope'], 'No trace "nope" for tenant "default".'],
    [['replay', '../../etc/passwd'], 'Invalid trace id "../../etc/passwd"'],
    [['replay', 'recorded', '--on-miss', 'sometimes'], 'Invalid value for --on-miss'],
    [['replay', 'recorded', '--until', '-1'], 'Invalid value for --until'],
    [['replay', 'recorded', '--format', 'pdf'], 'Invalid value for --format'],
    [['replay', 'recorded', '--timeout', 'soon'], 'Invalid value for --timeout'],
    [['replay'], "missing required argument 'traceId'"],
  ])('%j → exit 2', async (args, message) => {
    const r = await retrace(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("an --until past the end of the trace is the engine's input error (exit 2)", async () => {
    const r = await retrace(['replay', 'recorded', '--until', '999'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--until 999 is outside the trace');
  });
});
