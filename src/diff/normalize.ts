import type { StoredEvent } from '../events/envelope.js';
import { EMPTY_TRIE, removePaths, type PathTrie } from './paths.js';
import { IDENTITY_FIELDS } from './policy.js';

const IDENTITY: ReadonlySet<string> = new Set(IDENTITY_FIELDS);

export interface NormalizedEvent {
  /** what is compared: the event without identity fields and ignored paths */
  doc: Record<string, unknown>;
  /** the values the policy removed, in a deterministic order */
  removed: unknown[];
}

/**
 * The comparable form of an event. Streamed chunks whose `data` is JSON text are parsed first, so that ignore paths
 * can reach the per-chunk ids and timestamps providers put inside (`payload.chunks.*.data.id`) and patches point
 * into the chunk instead of replacing a whole line of text.
 */
export function normalizeEvent(event: StoredEvent, ignore: PathTrie = EMPTY_TRIE): NormalizedEvent {
  // copy rather than delete: deleting keys drops V8 objects into slow dictionary mode, and this runs per event
  const doc: Record<string, unknown> = {};
  for (const key in event) if (!IDENTITY.has(key)) doc[key] = (event as unknown as Record<string, unknown>)[key];
  if ((event.type === 'llm_response' || event.type === 'http_response') && event.payload.chunks) {
    doc.payload = { ...event.payload, chunks: event.payload.chunks.map(parseChunk) };
  }
  const removed: unknown[] = [];
  const out = removePaths(doc, ignore, removed) as Record<string, unknown>;
  return { doc: out, removed };
}

function parseChunk(chunk: { t: number; data: string }): { t: number; data: unknown } {
  const text = chunk.data.trim();
  if (!(text.startsWith('{') || text.startsWith('['))) return chunk;
  try {
    return { t: chunk.t, data: JSON.parse(text) as unknown };
  } catch {
    return chunk;
  }
}
