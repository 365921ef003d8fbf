import type * as z from 'zod';
import { ValidationError } from '../errors.js';
import { NewEventSchema, StoredEventSchema, type ParsedNewEvent, type StoredEvent } from './envelope.js';
import { upcast } from './upcast.js';

/** "payload.usage.inputTokens" from a zod issue path */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replaceAll('.[', '[');
}

function firstIssue(error: z.ZodError): { field: string; text: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '(root)', text: 'invalid' };
  let field = issuePath(issue.path) || '(root)';
  let text = issue.message;
  // a discriminated union with an unknown tag: say which tags exist
  if (issue.code === 'invalid_union' && field === 'type') text = 'unknown event type';
  if (issue.code === 'invalid_union' && issue.path.length === 0) {
    field = 'type';
    text = 'unknown or missing event type';
  }
  return { field, text };
}

/** Validates an event a writer wants to append; the error names the event's index in its batch and the field. */
export function parseNewEvent(raw: unknown, index: number): ParsedNewEvent {
  const result = NewEventSchema.safeParse(raw);
  if (result.success) return result.data as unknown as ParsedNewEvent;
  const { field, text } = firstIssue(result.error);
  const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type) : '?';
  throw new ValidationError(
    `Event #${index} (type "${type}") failed its schema at ${field}: ${text}. Nothing from this batch was written.`,
    'Fix that field (see docs/event-schema.json for the format) and append the whole batch again.',
    field,
    { cause: result.error },
  );
}

/** Validates an event read back from a store; returns the issue instead of throwing so the store can name the trace. */
export function safeParseStoredEvent(
  raw: unknown,
): { ok: true; event: StoredEvent } | { ok: false; field: string; text: string } {
  const lifted = upcast(raw);
  if (!lifted.ok) return { ok: false, field: 'schemaVersion', text: lifted.reason };
  const result = StoredEventSchema.safeParse(lifted.event);
  if (result.success) return { ok: true, event: result.data as unknown as StoredEvent };
  return { ok: false, ...firstIssue(result.error) };
}
