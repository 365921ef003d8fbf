import type { NewEvent } from '../events/envelope.js';
import {
  redactBodyText as redactBodyWith,
  redactHeaders as redactHeadersWith,
  redactUrl as redactUrlWith,
  redactValue as redactValueWith,
  replaceKnown,
} from '../secrets/redact.js';

/**
 * Event redaction: the store is immutable, so secrets are removed before the append, never after. On by default.
 * The catalogue (key shapes, credential names) is src/secrets/shapes.ts; per event:
 *   1. headers by name (authorization, x-api-key, cookie, …) → "[REDACTED]";
 *   2. JSON fields named like credentials (password, client_secret, aws_secret_access_key, …), and fields named like
 *      keys or tokens (STRIPE_KEY, deploy_token, …) when their value looks random;
 *   3. key shapes anywhere in any string at any depth (bodies, URLs and query strings, stream chunks, tool arguments
 *      and results, prompts, argv, stdout, error messages);
 *   4. query parameters named like credentials (key, api_key, token, signature, X-Amz-Signature, …);
 *   5. every later copy, in the same run, of a secret recognised once;
 *   6. the user's `redact` hook, last, on the already-redacted event.
 */
export {
  REDACTED,
  SECRET_HEADER_NAMES,
  isSecretHeader,
  isSecretEnvName,
  classifyName,
} from '../secrets/shapes.js';
export { redactString, redactEnvValue } from '../secrets/redact.js';

export function redactUrl(raw: string): string {
  return redactUrlWith(raw);
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return redactHeadersWith(headers);
}

/** Deep-redacts a JSON value of any depth; the same reference when nothing changed. */
export function redactValue(value: unknown): unknown {
  return redactValueWith(value);
}

export function redactBodyText(text: string): string {
  return redactBodyWith(text);
}

/** A user hook: gets the event after the default redaction, returns the event to store (or a changed copy). */
export type RedactHook = (event: NewEvent) => NewEvent | undefined | void;

/**
 * Applies the default rules to one event. With `memory` (one Set per run), secrets recognised in earlier events of the
 * run are also replaced wherever they appear again — e.g. an AWS secret the model echoes back in a streamed chunk,
 * where the key id that identified it is in another chunk.
 */
export function redactEventDefaults(event: NewEvent, memory?: Set<string>): NewEvent {
  return redactEvent(event, memory).event;
}

/** redactEventDefaults, saying whether the run's memory replaced anything the per-event rules left. */
export function redactEvent(event: NewEvent, memory?: Set<string>): { event: NewEvent; byMemory: boolean } {
  const redacted = redactByType(event, memory);
  if (!memory || memory.size === 0) return { event: redacted, byMemory: false };
  const payload = replaceKnown(redacted.payload, memory);
  return payload === redacted.payload
    ? { event: redacted, byMemory: false }
    : { event: { ...redacted, payload } as NewEvent, byMemory: true };
}

function redactByType(event: NewEvent, memory: Set<string> | undefined): NewEvent {
  switch (event.type) {
    case 'llm_request':
      return {
        ...event,
        payload: {
          ...event.payload,
          url: redactUrlWith(event.payload.url, memory),
          headers: redactHeadersWith(event.payload.headers, memory),
          body: redactValueWith(event.payload.body, memory),
        },
      };
    case 'http_request':
      return {
        ...event,
        payload: {
          ...event.payload,
          url: redactUrlWith(event.payload.url, memory),
          headers: redactHeadersWith(event.payload.headers, memory),
          ...(event.payload.body !== undefined && event.payload.bodyEncoding !== 'base64'
            ? { body: redactBodyWith(event.payload.body, memory) }
            : {}),
        },
      };
    case 'llm_response':
    case 'http_response': {
      const p = event.payload as Record<string, unknown> & {
        headers?: Record<string, string>;
        trailers?: Record<string, string>;
        body?: unknown;
        bodyEncoding?: string;
      };
      const out: Record<string, unknown> = { ...p };
      if (p.headers) out.headers = redactHeadersWith(p.headers, memory);
      if (p.trailers) out.trailers = redactHeadersWith(p.trailers, memory);
      if (typeof p.body === 'string') out.body = p.bodyEncoding === 'base64' ? p.body : redactBodyWith(p.body, memory);
      else if (p.body !== undefined) out.body = redactValueWith(p.body, memory);
      if (p.chunks !== undefined) out.chunks = redactValueWith(p.chunks, memory);
      if (p.error !== undefined) out.error = redactValueWith(p.error, memory);
      return { ...event, payload: out } as NewEvent;
    }
    default:
      return { ...event, payload: redactValueWith(event.payload, memory) } as NewEvent;
  }
}
