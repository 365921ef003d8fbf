import { EventTooLargeError } from '../../errors.js';

/**
 * KurrentDB refuses an append whose events together exceed the server's MaxAppendSize (1 MiB by default; the client's
 * `batchAppendSize` only splits gRPC messages and does not help). So a large batch is written as
 * several appends, each under the limit, chained by expected revision.
 *
 * What the server counts is data + metadata per event; we add a per-event allowance for the id, type and content type
 * and reserve room for the trace-state metadata that the last event of each chunk carries.
 */
export const DEFAULT_MAX_APPEND_BYTES = 1_048_576;
/** id, type name, content type and protobuf framing of one event, rounded up generously */
export const PER_EVENT_OVERHEAD = 256;
/** room for the trace-state metadata on each chunk's last event (lifecycle snapshot + aggregates) */
export const STATE_META_ALLOWANCE = 16 * 1024;

export interface Sized {
  /** bytes of the event's JSON data */
  bytes: number;
  eventId: string;
  type: string;
}

/** Split sizes into consecutive chunks, each within `maxAppendBytes`; returns the chunk lengths. */
export function splitBySize(events: readonly Sized[], maxAppendBytes = DEFAULT_MAX_APPEND_BYTES): number[] {
  const budget = maxAppendBytes - STATE_META_ALLOWANCE;
  const chunks: number[] = [];
  let count = 0;
  let used = 0;
  for (const [i, e] of events.entries()) {
    const cost = e.bytes + PER_EVENT_OVERHEAD;
    if (cost > budget) {
      throw new EventTooLargeError(
        `Event #${i} (${e.type}, ${e.eventId}) is ${e.bytes} bytes, more than one KurrentDB append may hold (${maxAppendBytes} bytes, MaxAppendSize). Nothing from this batch was written.`,
        "Raise the server's MaxAppendSize (up to 16 MB) and pass it as ?maxAppendSize= in the store URL, or store the large blob elsewhere and record a reference.",
        'payload',
      );
    }
    if (count > 0 && used + cost > budget) {
      chunks.push(count);
      count = 0;
      used = 0;
    }
    count += 1;
    used += cost;
  }
  if (count > 0) chunks.push(count);
  return chunks;
}
