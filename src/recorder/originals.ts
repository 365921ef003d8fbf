import * as nodeCrypto from 'node:crypto';

/**
 * The real clock, randomness and timers, saved when this module is first evaluated — before the recorder patches
 * anything. The recorder's OWN use of time and ids (timestamps, eventIds, latency, flush timers) goes through these,
 * so it is never recorded as the agent's nondeterminism and never served from a recording in replay.
 */
export const OriginalDate = globalThis.Date;
export const originalDateNow: () => number = OriginalDate.now.bind(OriginalDate);
const perf = globalThis.performance;
export const originalPerformanceNow: () => number = perf.now.bind(perf);
export const originalMathRandom: () => number = Math.random;
export const originalRandomUUID: () => string = nodeCrypto.randomUUID.bind(nodeCrypto);
export const originalSetTimeout = globalThis.setTimeout;
export const originalClearTimeout = globalThis.clearTimeout;
export const originalSetImmediate = globalThis.setImmediate;

let lastMs = Number.NaN;
let lastIso = '';

/** ISO timestamp from the real clock (millisecond precision, so one string per millisecond is enough). */
export function nowIso(): string {
  const now = originalDateNow();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new OriginalDate(now).toISOString();
  }
  return lastIso;
}

/** A fresh event id from the real generator. */
export function freshEventId(): string {
  return originalRandomUUID();
}

/** A fresh, time-sortable trace id (same shape as events/ids.ts newTraceId), from the real clock and generator. */
export function freshTraceId(): string {
  return `tr_${originalDateNow().toString(36).padStart(9, '0')}_${originalRandomUUID().replaceAll('-', '').slice(0, 16)}`;
}
