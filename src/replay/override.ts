import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { StoredEvent } from '../events/envelope.js';
import { OverrideInvalidError } from './errors.js';
import type { ResolvedOverride } from './hooks.js';

/**
 * A response override: replace one recorded LLM response, then let the replay continue from there.
 * `seq` may name the llm_request or its llm_response. Give `body` (the replacement JSON body) or, for a streamed
 * response, `chunks` (the SSE text chunks, re-emitted in order).
 */
export const ResponseOverrideSchema = z
  .strictObject({
    seq: z.number().int().nonnegative(),
    status: z.number().int().min(100).max(599).optional(),
    body: z.unknown().optional(),
    chunks: z.array(z.string()).min(1).optional(),
  })
  .refine((o) => o.body !== undefined || o.chunks !== undefined, { message: 'give "body" or "chunks"' });
export type ResponseOverride = z.infer<typeof ResponseOverrideSchema>;

/** Reads (when given a path) and validates an override, and resolves it against the trace. */
export function resolveOverride(input: string | unknown, events: readonly StoredEvent[]): ResolvedOverride {
  let raw: unknown = input;
  if (typeof input === 'string') {
    let text: string;
    try {
      text = readFileSync(input, 'utf8');
    } catch (err) {
      throw new OverrideInvalidError(`The override file ${input} cannot be read: ${(err as Error).message}.`);
    }
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err) {
      throw new OverrideInvalidError(`The override file ${input} is not JSON: ${(err as Error).message}.`);
    }
  }
  const parsed = ResponseOverrideSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OverrideInvalidError(
      `The response override fails its schema at ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
    );
  }
  const o = parsed.data;
  const target = events.find((e) => e.seq === o.seq);
  let request: StoredEvent | undefined;
  if (target?.type === 'llm_request') request = target;
  else if (target?.type === 'llm_response') request = events.find((e) => e.eventId === target.parentEventId);
  if (!request || request.type !== 'llm_request') {
    throw new OverrideInvalidError(
      `The override names event ${o.seq}, which is ${target ? `a ${target.type}` : 'not in the trace'}, not an LLM request or response.`,
      '`retrace show <trace>` lists the events with their seq; pick an llm_request or llm_response.',
    );
  }
  const response = events.find((e) => e.type === 'llm_response' && e.parentEventId === request.eventId);
  const streamed = response?.type === 'llm_response' ? response.payload.chunks !== undefined : request.payload.stream;
  if (streamed && !o.chunks)
    throw new OverrideInvalidError(
      `Event ${o.seq} is a streamed response: the override needs "chunks" (the SSE text), not "body".`,
    );
  if (!streamed && o.body === undefined)
    throw new OverrideInvalidError(`Event ${o.seq} is not streamed: the override needs "body".`);
  return {
    requestSeq: request.seq,
    ...(o.status !== undefined ? { status: o.status } : {}),
    ...(o.body !== undefined ? { body: o.body } : {}),
    ...(o.chunks ? { chunks: o.chunks } : {}),
  };
}
