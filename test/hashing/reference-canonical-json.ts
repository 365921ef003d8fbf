/**
 * The canonical serializer exactly as it was when the first stored traces were hashed (src/hashing/canonical-json.ts
 * before it had fast paths), kept verbatim as the reference the faster code must match byte for byte: a stored trace's
 * hash chain only verifies while the same content gives the same text.
 */
export function referenceCanonicalJson(value: unknown): string {
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
  keys.sort();
  let s = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const v = write(record[key], false);
    if (v === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += JSON.stringify(key) + ':' + v;
  }
  return s + '}';
}
