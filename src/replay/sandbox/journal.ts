import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { NewEvent } from '../../events/envelope.js';
import { SandboxProtocolError } from '../errors.js';
import { NoticeSchema, type ChildMessage } from './protocol.js';

/**
 * Zero-code mode: the child writes events and notices to a journal synchronously (the script may end the process any
 * moment, with process.exit or an uncaught error); the parent reads it once the child has exited.
 */
export const JOURNAL_FILE = 'journal.ndjson';

const JournalLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('append'), events: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ type: z.literal('notice'), notice: NoticeSchema }),
]);

export interface JournalSink {
  onAppend(events: readonly NewEvent[]): Promise<unknown>;
  onMessage?(message: ChildMessage): void;
}

/** Replays a zero-code child's journal into the parent, in order: appends to the store, notices to the caller. */
export async function ingestJournal(
  path: string,
  sink: JournalSink,
  exitCode: number,
): Promise<Extract<ChildMessage, { type: 'done' }>> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    /* the script ended before recording anything */
  }
  let last: Record<string, unknown> | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = JournalLineSchema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new SandboxProtocolError(`invalid journal line: ${parsed.error.issues[0]?.message ?? ''}`, '');
    const entry = parsed.data;
    if (entry.type === 'append') {
      await sink.onAppend(entry.events as unknown as NewEvent[]);
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
