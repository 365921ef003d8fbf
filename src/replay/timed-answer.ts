import { errorFromInfo } from '../recorder/serialize.js';
import type { ErrorInfo, Interruption, StreamChunk } from '../events/payloads.js';
import { wireChunk } from '../providers/index.js';
import type { ArrivalTicket } from './arrivals.js';

/**
 * Replayed answers that arrive at their recorded turn (see arrivals.ts): a stream whose chunks are enqueued as their
 * tickets are released, ending the way the recorded one ended — closed, cut by the server with the recorded error, or
 * aborted — and honouring the agent's own AbortSignal the way fetch does (the read rejects with signal.reason).
 */

const encoder = new TextEncoder();

/**
 * An error of the recorded class: `catch (e) { if (e instanceof TypeError) … }` or `e.name === 'AbortError'` take the
 * branch they took when recorded. AbortError and TimeoutError are DOMExceptions, as fetch throws them.
 */
export function errorOfClass(info: ErrorInfo): Error {
  const { stack: _stack, ...withoutStack } = info;
  return errorFromInfo(withoutStack);
}

/** what an aborted signal makes fetch throw */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Waits for a ticket; rejects with the abort reason when the agent aborts first. */
export function awaitTurn(ticket: ArrivalTicket, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return ticket.promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    ticket.promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, reject);
  });
}

export interface TimedStreamInit {
  chunks: readonly StreamChunk[];
  chunkTickets: readonly ArrivalTicket[];
  end: ArrivalTicket | undefined;
  /** how the recorded body ended, when it did not end cleanly */
  error?: ErrorInfo | undefined;
  interrupted?: Interruption | undefined;
  signal?: AbortSignal | undefined;
  /** the response's content type: chunks are framed for it (SSE as recorded; AWS event-stream re-framed) */
  contentType?: string | undefined;
}

export function timedStream(init: TimedStreamInit): ReadableStream<Uint8Array> {
  const tickets = [...init.chunkTickets, ...(init.end ? [init.end] : [])];
  let finished = false;
  const finish = (): void => {
    finished = true;
    for (const t of tickets) t.cancel();
  };
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const signal = init.signal;
      const onAbort = (): void => {
        if (finished) return;
        finish();
        controller.error(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for (let k = 0; k < init.chunks.length; k++) {
          const ticket = init.chunkTickets[k];
          if (ticket) await ticket.promise;
          if (finished) return;
          const wire = wireChunk(init.contentType, (init.chunks[k] as StreamChunk).data);
          controller.enqueue(typeof wire === 'string' ? encoder.encode(wire) : wire);
        }
        if (init.end) await init.end.promise;
        if (finished) return;
        finished = true;
        if (init.error && init.interrupted) {
          // cut by the server, or aborted by the agent in the recording and not (yet) here: end it the same way
          controller.error(errorOfClass(init.error));
        } else controller.close();
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    cancel() {
      finish();
    },
  });
}
