import { ValidationError } from '../errors.js';
import { toNewEvent } from '../events/envelope.js';
import type { EventStore } from '../store/types.js';
import type { FileTrace } from './ndjson.js';

export type ImportDecision = 'new' | 'unchanged';

export interface ImportOutcome {
  traceId: string;
  events: number;
  /** imported: appended now; unchanged: the store already held exactly these events (importing twice is a no-op) */
  result: 'imported' | 'unchanged';
}

/**
 * Decides, before anything is written, what happens to each trace read from a file: a new trace is appended, a trace
 * whose events the store already holds (same eventIds at the same seqs) is left alone, anything else is a conflict.
 * Checking every trace first means a conflict in the third trace does not leave the first two imported.
 */
export async function planImport(
  store: EventStore,
  tenant: string,
  traces: readonly FileTrace[],
): Promise<Map<string, ImportDecision>> {
  const decisions = new Map<string, ImportDecision>();
  for (const trace of traces) {
    const summary = await store.summary(tenant, trace.traceId);
    if (!summary) {
      decisions.set(trace.traceId, 'new');
      continue;
    }
    let seq = 0;
    for await (const stored of store.read(tenant, trace.traceId, { toSeq: trace.events.length - 1 })) {
      const mine = trace.events[seq];
      if (!mine || mine.eventId.toLowerCase() !== stored.eventId.toLowerCase()) break;
      seq += 1;
    }
    if (seq !== trace.events.length) {
      throw new ValidationError(
        `Trace "${trace.traceId}" already exists in tenant "${tenant}" with different events (they differ from seq ${seq}, file line ${trace.lines[seq] ?? '?'}). Nothing was imported.`,
        'Import into another tenant (--tenant) or store (--store), or export the stored trace to compare it with the file.',
        'traceId',
      );
    }
    decisions.set(trace.traceId, 'unchanged');
  }
  return decisions;
}

/**
 * Imports validated traces (from readTraceFile / loadGoldens) into `tenant`: plans first (a conflict imports nothing),
 * then appends each new trace in one append, which the store writes in one transaction or not at all. Events go to
 * `tenant`, whatever tenant the file came from. What `retrace import` and `retrace ci` both run.
 */
export async function importTraces(
  store: EventStore,
  tenant: string,
  traces: readonly FileTrace[],
): Promise<ImportOutcome[]> {
  const decisions = await planImport(store, tenant, traces);
  const done: ImportOutcome[] = [];
  for (const trace of traces) {
    if (decisions.get(trace.traceId) === 'new') {
      await store.append(tenant, trace.traceId, trace.events.map(toNewEvent), { expectedRevision: 'no_stream' });
      done.push({ traceId: trace.traceId, events: trace.events.length, result: 'imported' });
    } else {
      done.push({ traceId: trace.traceId, events: trace.events.length, result: 'unchanged' });
    }
  }
  return done;
}
