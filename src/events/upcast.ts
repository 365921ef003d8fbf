import { SCHEMA_VERSION } from './envelope.js';

/**
 * Formats are versioned: stored events are never rewritten, old versions are lifted to the current one on
 * read by a chain of upcasters, UPCASTERS[n] turning version n into n + 1. Version 1 is the first format, so the
 * chain is empty today; the first breaking change adds UPCASTERS[1] here, and `retrace verify` keeps hashing what was
 * stored, not the lifted form.
 */
type RawEvent = Record<string, unknown>;
const UPCASTERS: Record<number, (event: RawEvent) => RawEvent> = {};

export type UpcastResult = { ok: true; event: unknown } | { ok: false; reason: string };

export function upcast(raw: unknown): UpcastResult {
  if (typeof raw !== 'object' || raw === null) return { ok: true, event: raw };
  let event = raw as RawEvent;
  let version = event.schemaVersion;
  if (typeof version !== 'number') return { ok: true, event };
  if (version > SCHEMA_VERSION) {
    return {
      ok: false,
      reason: `written by a newer retrace (schemaVersion ${version}; this version reads up to ${SCHEMA_VERSION}) — upgrade agent-retrace`,
    };
  }
  while (version < SCHEMA_VERSION) {
    const step = UPCASTERS[version];
    if (!step) return { ok: false, reason: `schemaVersion ${version} is not a format retrace ever wrote` };
    event = step(event);
    version += 1;
  }
  return { ok: true, event };
}
