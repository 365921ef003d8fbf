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
 * Hashes an event that has no `hash` yet and returns both the hash and the stored JSON: the canonical text that was
 * hashed, with `"hash"` appended as the last key. One serialization serves as hash input and stored body.
 */
export function sealEvent(unsealed: { prevHash: string } & Record<string, unknown>): { hash: string; json: string } {
  const canonical = canonicalJson(unsealed);
  const hash = sha256Hex(canonical);
  return { hash, json: `${canonical.slice(0, -1)},"hash":"${hash}"}` };
}
