/**
 * A small structural JSON diff (RFC 6902 shaped ops, arrays compared by index) for naming what changed between a
 * replayed request and the nearest recorded one. Deliberately self-contained: it runs inside the sandbox.
 */
export interface JsonDiffOp {
  op: 'add' | 'remove' | 'replace';
  /** JSON Pointer */
  path: string;
  /** the recorded value (remove/replace) */
  from?: unknown;
  /** the replayed value (add/replace) */
  value?: unknown;
}

function escapeSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function jsonDiff(
  recorded: unknown,
  replayed: unknown,
  path = '',
  out: JsonDiffOp[] = [],
  limit = 200,
): JsonDiffOp[] {
  if (out.length >= limit) return out;
  if (Array.isArray(recorded) && Array.isArray(replayed)) {
    const n = Math.max(recorded.length, replayed.length);
    for (let i = 0; i < n && out.length < limit; i++) {
      const p = `${path}/${i}`;
      if (i >= recorded.length) out.push({ op: 'add', path: p, value: replayed[i] });
      else if (i >= replayed.length) out.push({ op: 'remove', path: p, from: recorded[i] });
      else jsonDiff(recorded[i], replayed[i], p, out, limit);
    }
    return out;
  }
  if (isObject(recorded) && isObject(replayed)) {
    const keys = [...new Set([...Object.keys(recorded), ...Object.keys(replayed)])].sort();
    for (const k of keys) {
      if (out.length >= limit) break;
      const p = `${path}/${escapeSegment(k)}`;
      const inA = Object.prototype.hasOwnProperty.call(recorded, k) && recorded[k] !== undefined;
      const inB = Object.prototype.hasOwnProperty.call(replayed, k) && replayed[k] !== undefined;
      if (!inA && inB) out.push({ op: 'add', path: p, value: replayed[k] });
      else if (inA && !inB) out.push({ op: 'remove', path: p, from: recorded[k] });
      else if (inA && inB) jsonDiff(recorded[k], replayed[k], p, out, limit);
    }
    return out;
  }
  if (!Object.is(recorded, replayed) && JSON.stringify(recorded) !== JSON.stringify(replayed)) {
    out.push({ op: 'replace', path: path === '' ? '' : path, from: recorded, value: replayed });
  }
  return out;
}

/** A size for "how different": number of ops plus the length of the changed leaves, so one changed word beats one changed message. */
export function diffWeight(ops: readonly JsonDiffOp[]): number {
  let w = 0;
  for (const op of ops) {
    w += 1000;
    const a = op.from === undefined ? '' : JSON.stringify(op.from);
    const b = op.value === undefined ? '' : JSON.stringify(op.value);
    w += Math.min(1000, Math.abs(a.length - b.length) + (a === b ? 0 : Math.min(a.length, b.length)));
  }
  return w;
}
