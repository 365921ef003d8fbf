import jsonpatch from 'fast-json-patch';
import { Interner, diffSequences } from './myers.js';

// fast-json-patch is CommonJS without an `exports` map: only the default import works under plain Node
const { compare, escapePathComponent, getValueByPointer } = jsonpatch;

/**
 * An RFC 6902 operation, plus `oldValue` on remove/replace so a reader sees what was there (RFC 6902 §4 lets
 * operations carry extra members; appliers ignore them). Applying the ops in order to A yields B.
 */
export interface PatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
  oldValue?: unknown;
}

/** Arrays are aligned with a cheaper edit cap than traces: past it, their middle is paired up positionally. */
const ARRAY_MAX_EDITS = 500;

/**
 * JSON Patch from a to b. fast-json-patch diffs arrays by index, so one message inserted at the front of a chat would
 * rewrite every later message. Here arrays are aligned by element content first (Myers), changed
 * items in a hunk are paired and diffed recursively, and the rest become single add/remove ops. Objects without arrays
 * inside are handed to fast-json-patch's `compare`, which is exact for them.
 */
export function diffJson(a: unknown, b: unknown, basePath = ''): PatchOp[] {
  const ops: PatchOp[] = [];
  walk(a, b, basePath, ops);
  return ops;
}

function walk(a: unknown, b: unknown, path: string, ops: PatchOp[]): void {
  if (a === b) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, ops);
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    if (!containsArray(a) && !containsArray(b)) {
      objectPatch(a, b, path, ops);
      return;
    }
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const child = `${path}/${escapePathComponent(key)}`;
      const inA = Object.hasOwn(a, key) && a[key] !== undefined;
      const inB = Object.hasOwn(b, key) && b[key] !== undefined;
      if (inA && inB) walk(a[key], b[key], child, ops);
      else if (inA) ops.push({ op: 'remove', path: child, oldValue: a[key] });
      else if (inB) ops.push({ op: 'add', path: child, value: b[key] });
    }
    return;
  }
  if (jsonKey(a) !== jsonKey(b)) ops.push({ op: 'replace', path, value: b, oldValue: a });
}

function objectPatch(a: Record<string, unknown>, b: Record<string, unknown>, path: string, ops: PatchOp[]): void {
  const found = compare(a, b);
  // compare walks keys last-to-first; with no arrays inside, no op shifts another, so sorting by path is safe and stable
  found.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  for (const op of found) {
    const full = path + op.path;
    if (op.op === 'add') ops.push({ op: 'add', path: full, value: op.value });
    else if (op.op === 'remove') ops.push({ op: 'remove', path: full, oldValue: getValueByPointer(a, op.path) });
    else if (op.op === 'replace')
      ops.push({ op: 'replace', path: full, value: op.value, oldValue: getValueByPointer(a, op.path) });
  }
}

function diffArrays(a: unknown[], b: unknown[], path: string, ops: PatchOp[]): void {
  const interner = new Interner();
  const ka = Int32Array.from(a, (v) => interner.id(jsonKey(v)));
  const kb = Int32Array.from(b, (v) => interner.id(jsonKey(v)));
  const { hunks } = diffSequences(ka, kb, ARRAY_MAX_EDITS);
  // k is the index in the document as it is after the ops emitted so far: ops apply in order
  let k = 0;
  let ia = 0;
  for (const h of hunks) {
    k += h.aStart - ia;
    const paired = Math.min(h.aEnd - h.aStart, h.bEnd - h.bStart);
    for (let t = 0; t < paired; t++) {
      walk(a[h.aStart + t], b[h.bStart + t], `${path}/${k}`, ops);
      k++;
    }
    for (let x = h.aStart + paired; x < h.aEnd; x++) ops.push({ op: 'remove', path: `${path}/${k}`, oldValue: a[x] });
    for (let y = h.bStart + paired; y < h.bEnd; y++) {
      ops.push({ op: 'add', path: `${path}/${k}`, value: b[y] });
      k++;
    }
    ia = h.aEnd;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function containsArray(v: unknown): boolean {
  if (Array.isArray(v)) return true;
  if (!isPlainObject(v)) return false;
  for (const key in v) if (containsArray(v[key])) return true;
  return false;
}

/** Equality key for alignment: JSON text (key order can make equal objects differ here; the pairing then recovers). */
function jsonKey(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/**
 * A size for "how different", used to pick the recorded request nearest to a replayed one: the number of ops plus
 * the length of the changed leaves, so one changed word weighs less than one changed message.
 */
export function patchWeight(ops: readonly PatchOp[]): number {
  let w = 0;
  for (const op of ops) {
    w += 1000;
    const a = op.oldValue === undefined ? '' : JSON.stringify(op.oldValue);
    const b = op.value === undefined ? '' : JSON.stringify(op.value);
    w += Math.min(1000, Math.abs(a.length - b.length) + (a === b ? 0 : Math.min(a.length, b.length)));
  }
  return w;
}
