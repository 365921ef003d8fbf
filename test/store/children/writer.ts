/**
 * A separate writer process for the multi-process fault tests. Usage:
 *   writer.ts race   DB TRACE EXPECTED   → one append at an expected revision; prints "won" or the error code
 *   writer.ts big    DB TRACE BATCHES N  → appends BATCHES batches of N events and prints progress per batch (killed mid-way)
 *   writer.ts many   DB PREFIX COUNT     → records COUNT small traces
 *   writer.ts hang   DB TRACE            → starts a trace, then waits forever (killed to make it incomplete)
 */
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../../src/events/envelope.js';
import { openStore } from '../../../src/store/open-store.js';

const [mode, db, trace, a, b] = process.argv.slice(2);
const store = await openStore(`sqlite:${db}`);
const ts = () => new Date().toISOString();
const started = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'agent_started',
  timestamp: ts(),
  payload: {
    agent: 'child',
    input: {},
    environment: { node: process.version, platform: process.platform, arch: process.arch, retraceVersion: '0' },
  },
});
const note = (i: number): NewEvent => ({
  eventId: randomUUID(),
  type: 'decision_made',
  timestamp: ts(),
  payload: { decision: `n${i}`, data: 'x'.repeat(500) },
});

if (mode === 'race') {
  // wait for the go signal on stdin so both racers start together
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  try {
    await store.append('t', trace!, [note(Number(a))], { expectedRevision: Number(a) });
    process.stdout.write('won\n');
  } catch (err) {
    process.stdout.write(`${(err as { code?: string }).code ?? String(err)}\n`);
  }
} else if (mode === 'big') {
  let rev = (await store.append('t', trace!, [started()], { expectedRevision: 'no_stream' })).nextExpectedRevision;
  for (let i = 0; i < Number(a); i++) {
    const batch = Array.from({ length: Number(b) }, (_, j) => note(i * Number(b) + j));
    rev = (await store.append('t', trace!, batch, { expectedRevision: rev })).nextExpectedRevision;
    process.stdout.write(`batch ${i}\n`);
  }
} else if (mode === 'many') {
  for (let i = 0; i < Number(a); i++) {
    await store.append(
      't',
      `${trace}-${i}`,
      [
        started(),
        note(0),
        {
          eventId: randomUUID(),
          type: 'agent_completed',
          timestamp: ts(),
          payload: {
            output: i,
            totals: { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 1 },
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  }
  process.stdout.write('done\n');
} else if (mode === 'hang') {
  await store.append('t', trace!, [started(), note(0)], { expectedRevision: 'no_stream' });
  process.stdout.write('started\n');
  setInterval(() => undefined, 1000);
}
if (mode !== 'hang') await store.close();
