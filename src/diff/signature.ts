import type { StoredEvent } from '../events/envelope.js';

/**
 * What makes two events "the same step" for alignment (the first, structural tier of the comparison, as in
 * Temporal's replay check): the event type plus the model (llm_*), the tool (tool_*) or method and path (http_*).
 * Payload differences are the second tier, reported as patches on aligned pairs.
 */
export function signatureOf(event: StoredEvent): string {
  return `${event.type}\u0000${subjectOf(event) ?? ''}`;
}

/** The model, tool, or "METHOD /path" an event is about; undefined for types without one. */
export function subjectOf(event: StoredEvent): string | undefined {
  switch (event.type) {
    case 'llm_request':
    case 'llm_response':
      return event.payload.model;
    case 'tool_call':
    case 'tool_response':
      return event.payload.tool;
    case 'http_request':
      return `${event.payload.method.toUpperCase()} ${urlPath(event.payload.url)}`;
    case 'http_response':
      return undefined; // the response names no URL; it aligns by position next to its request
    case 'decision_made':
      return event.payload.decision;
    case 'memory_updated':
      return event.payload.key;
    case 'file_written':
      return event.payload.path;
    default:
      return undefined;
  }
}

/** Host-independent: a replay through a proxy base URL is still the same call. */
function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** "llm_request gpt-4o-mini", "tool_call search", "agent_completed": how reports name an event. */
export function labelOf(event: StoredEvent): string {
  const subject = subjectOf(event);
  return subject === undefined ? event.type : `${event.type} ${subject}`;
}
