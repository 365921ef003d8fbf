import * as crypto from 'node:crypto';

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace, numbers and strings as
 * JSON.stringify writes them (which is what RFC 8785 specifies for IEEE doubles). Rules for values JSON has no
 * spelling for, chosen to match JSON.stringify so that a value and its JSON round trip hash the same:
 *   - `undefined`, functions and symbols are dropped from objects and become null in arrays;
 *   - non-finite numbers become null; bigint throws (it has no JSON form);
 *   - objects with toJSON (Date, Buffer, …) are serialized through it.
 * Reproducible from any language, and ~7× faster than object-hash on a chat request (measured in bench/).
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, false);
  return out === undefined ? 'null' : out;
}

function write(value: unknown, inArray: boolean): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: a bigint has no JSON form; convert it to a string or number first');
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? 'null' : undefined;
    default:
      break;
  }
  const obj = value as { toJSON?: () => unknown };
  if (typeof obj.toJSON === 'function') return write(obj.toJSON(), inArray);
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      s += write(value[i], true);
    }
    return s + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // most objects repeat the same few keys, often already in order: sort only when needed, quote each key once
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  let s = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const v = write(record[key], false);
    if (v === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += quotedKey(key) + v;
  }
  return s + '}';
}

const KEY_CACHE_LIMIT = 4096;
const quotedKeys = new Map<string, string>();

/** `"key":`, remembered for the first KEY_CACHE_LIMIT distinct keys (object keys come from a small vocabulary) */
function quotedKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < KEY_CACHE_LIMIT && key.length <= 64) quotedKeys.set(key, q);
  }
  return q;
}

/**
 * The canonical form of `value`, given `json` = JSON.stringify(value): when every object in it already has its keys in
 * sorted order and it holds only plain objects, arrays, strings, finite numbers, booleans and null, the two spellings
 * are the same text, so `json` is returned and nothing is serialized twice. Anything else (unsorted keys, toJSON,
 * undefined, class instances, boxed primitives, non-finite numbers) goes through canonicalJson.
 * test/hashing/canonical-json.test.ts checks both paths against the reference serializer.
 */
export function canonicalJsonGiven(value: unknown, json: string): string {
  return isCanonicalPlain(value) ? json : canonicalJson(value);
}

function isCanonicalPlain(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!isCanonicalPlain(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return false;
  let prev: string | undefined;
  for (const key in record) {
    // for…in also walks inherited enumerable keys; a plain object's prototype has none, and own keys come in
    // Object.keys order, which is what both JSON.stringify and canonicalJson iterate
    if (prev !== undefined && !(prev < key)) return false;
    if (!isCanonicalPlain(record[key])) return false;
    prev = key;
  }
  return true;
}

// crypto.hash (Node ≥20.12) is a one-shot digest, about twice as fast as createHash for the ~1 KB inputs we hash per event
const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string }).hash;

export function sha256Hex(text: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

export function hashCanonical(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
