import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { NewEvent } from '../../events/envelope.js';
import { SandboxProtocolError } from '../errors.js';
import { NoticeSchema, SealedSchema, type ChildMessage } from './protocol.js';
import { sealValid } from './seal.js';

/**
 * Zero-code mode: the child writes events and notices to a journal synchronously (the script may end the process any
 * moment, with process.exit or an uncaught error); the parent reads it once the child has exited. Every line is
 * sealed (seal.ts) and numbered, so a line the agent wrote itself — or a copy of a real one — is refused, and so is a
 * line that is not JSON at all: each as a SANDBOX_PROTOCOL error naming the line.
 */
export const JOURNAL_FILE = 'journal.ndjson';

export const JournalEntrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('append'), events: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ type: z.literal('notice'), notice: NoticeSchema }),
]);
export type JournalEntry = z.input<typeof JournalEntrySchema>;

export interface JournalSink {
  onAppend(events: readonly unknown[]): Promise<unknown>;
  onMessage?(message: ChildMessage): void;
}

function protocolError(lineNo: number, what: string): SandboxProtocolError {
  return new SandboxProtocolError(`journal line ${lineNo}: ${what}`, '');
}

/** Replays a zero-code child's journal into the parent, in order: appends to the store, notices to the caller. */
export async function ingestJournal(
  path: string,
  sink: JournalSink,
  exitCode: number,
  sealKey: string,
): Promise<Extract<ChildMessage, { type: 'done' }>> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    /* the script ended before recording anything */
  }
  let last: Record<string, unknown> | undefined;
  let lineNo = 0;
  let expected = 0;
  for (const line of text.split('\n')) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw protocolError(lineNo, `not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const sealed = SealedSchema.safeParse(raw);
    if (!sealed.success) throw protocolError(lineNo, 'not sealed: it was not written by the retrace runtime');
    const { n, mac, body } = sealed.data;
    if (n !== expected || !sealValid(sealKey, n, body, mac))
      throw protocolError(lineNo, 'its seal does not match: it was not written by the retrace runtime');
    expected += 1;
    const parsed = JournalEntrySchema.safeParse(body);
    if (!parsed.success) throw protocolError(lineNo, parsed.error.issues[0]?.message ?? 'invalid entry');
    const entry = parsed.data;
    if (entry.type === 'append') {
      await sink.onAppend(entry.events);
      last = entry.events.at(-1) ?? last;
    } else sink.onMessage?.({ type: 'notice', notice: entry.notice });
  }
  const payload = (last?.payload ?? {}) as {
    output?: unknown;
    error?: { name: string; message: string; code?: string };
  };
  if (last?.type === 'agent_completed')
    return { type: 'done', outcome: 'completed', output: payload.output, remainingValues: {} };
  const error =
    last?.type === 'agent_failed' && payload.error
      ? payload.error
      : { name: 'NonZeroExit', message: `The process exited with code ${exitCode}.` };
  return {
    type: 'done',
    outcome: exitCode === 0 && last?.type !== 'agent_failed' ? 'completed' : 'failed',
    error,
    remainingValues: {},
  };
}

/** The parent's check of one batch of events from the child: each must pass the event schema, or the replay ends. */
export function validateEvents(
  raw: readonly unknown[],
  parse: (event: unknown, index: number) => NewEvent,
): NewEvent[] {
  return raw.map((e, i) => {
    try {
      return parse(e, i);
    } catch (err) {
      throw new SandboxProtocolError(
        `the sandbox sent an invalid event: ${err instanceof Error ? err.message : String(err)}`,
        '',
      );
    }
  });
}
