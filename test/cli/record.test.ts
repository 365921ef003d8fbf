import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, tempStore } from './cli-harness.js';

/** `retrace record -- <command>`: zero-code recording of a Node process; the command's exit code passes through. */
const RecordOutputSchema = z.strictObject({
  traceId: z.string(),
  tenantId: z.string(),
  exitCode: z.number().int(),
  status: z.enum(['running', 'completed', 'failed', 'incomplete']),
  events: z.number().int(),
});

const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };
const agent = join(tmp.dir, 'agent.mjs');

beforeAll(async () => {
  writeFileSync(agent, 'console.log("hello from agent");\nprocess.exitCode = Number(process.argv[2] ?? 0);\n');
  await ensureBuilt();
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace record', () => {
  it("records a Node process, prints the trace id, keeps the agent's stdout", async () => {
    const r = await retrace(['record', '--agent', 'demo', '--trace-id', 'rec-ok', '--', 'node', agent, '0'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello from agent');
    expect(r.stderr).toContain('recorded trace rec-ok (completed, 2 events); exit code 0');
    const show = await retrace(['show', 'rec-ok'], env);
    expect(show.stdout).toContain('agent    demo');
    expect(show.stdout).toMatch(/agent_completed .*"stdout":"hello from agent\\n"/);
  });

  it("passes the command's exit code through; --json reports the run", async () => {
    const r = await retrace(['record', '--json', '--', 'node', agent, '4'], env);
    expect(r.code).toBe(4);
    const out = RecordOutputSchema.parse(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))));
    expect(out).toMatchObject({ exitCode: 4, status: 'failed', events: 2, tenantId: 'default' });
    expect(out.traceId).toMatch(/^tr_/);
  });

  it.each([
    [['record', '--trace-id', 'rec-ok', '--', 'node', agent], 2, 'Trace "rec-ok" already exists'],
    [['record', '--trace-id', '../x', '--', 'node', agent], 2, 'Invalid trace id "../x"'],
    [['record', '--', 'no-such-command-xyz'], 2, 'command not found'],
    [['record'], 2, "missing required argument 'command'"],
    [['record', '--', 'true'], 3, 'recorded no trace'],
  ])('%j → exit %i', async (args, code, message) => {
    const r = await retrace(args, env);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
  });
});
