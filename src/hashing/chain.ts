import { canonicalJson, sha256Hex } from './canonical-json.js';

/**
 * The per-trace hash chain (design §1): each stored event carries the hash of the previous one, and its own hash over
 * that link plus its canonical content, so `retrace verify` can prove nothing in a trace was altered, dropped or
 * reordered. `hash` itself is excluded from what is hashed.
 */
export function eventHash(event: { hash?: string; prevHash: string } & Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = event;
  return sha256Hex(canonicalJson(rest));
}

/**
 * Hashes an event that has no `hash` yet and returns the hash and the JSON to store. The hash is over the canonical
 * (sorted-key) form, so any language can recompute it; the stored JSON keeps the key order the writer used, because
 * replay must hand the agent back exactly what it saw: an agent that sends JSON.stringify(toolResult) to a model
 * sends different text (and misses the cache) if the recorded result comes back with sorted keys.
 */
export function sealEvent(unsealed: { prevHash: string } & Record<string, unknown>): { hash: string; json: string } {
  const hash = sha256Hex(canonicalJson(unsealed));
  // append "hash" as the last key by splicing, not by spreading into a new object: the spread cost more than the
  // serialization itself (measured ~7 µs of ~12 µs per 1 KB event)
  const json = JSON.stringify(unsealed);
  return { hash, json: `${json.slice(0, -1)},"hash":"${hash}"}` };
}
