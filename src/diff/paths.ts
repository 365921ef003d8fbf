/**
 * Ignore paths: where in an event a policy says "do not compare". Written either dotted (`payload.chunks.*.t`) or as
 * a JSON pointer (`/payload/chunks/*\/t`); `*` matches every array item or object key at that level. Paths start at
 * the event root, so envelope fields (`timestamp`) and payload fields (`payload.latencyMs`) use one syntax.
 */
export type PathSegment = string;
export const WILDCARD = '*';

export interface CompiledPath {
  /** the path as the user wrote it, for messages */
  source: string;
  segments: PathSegment[];
}

/** Why the path is unusable, or undefined if it is fine. */
export function pathProblem(source: string): string | undefined {
  if (source.trim() === '') return 'it is empty';
  const segments = splitPath(source);
  if (segments.some((s) => s === '')) return 'it has an empty segment (two separators in a row, or a trailing one)';
  return undefined;
}

export function compilePath(source: string): CompiledPath {
  return { source, segments: splitPath(source) };
}

function splitPath(source: string): string[] {
  if (source.startsWith('/')) {
    // RFC 6901 unescaping: ~1 is "/", ~0 is "~"
    return source.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  return source.split('.');
}

/**
 * Removes every value the paths select, copying only the containers on the way (the input is never mutated, and
 * untouched subtrees are shared). The removed values are appended to `removed` in a deterministic order so that two
 * events can later be told "identical" (ignored values equal too) from "equivalent" (only ignored values differ).
 * An array item selected as the last segment is replaced by null rather than spliced, so later indices do not shift.
 */
export function removePaths(root: unknown, paths: readonly CompiledPath[], removed: unknown[]): unknown {
  let out = root;
  for (const p of paths) out = removeAt(out, p.segments, 0, removed);
  return out;
}

function removeAt(node: unknown, segs: readonly string[], i: number, removed: unknown[]): unknown {
  if (node === null || typeof node !== 'object') return node;
  const seg = segs[i] as string;
  const last = i === segs.length - 1;
  if (Array.isArray(node)) {
    let copy: unknown[] | null = null;
    const visit = (idx: number): void => {
      const child: unknown = node[idx];
      let next: unknown;
      if (last) {
        removed.push(child);
        next = null;
      } else next = removeAt(child, segs, i + 1, removed);
      if (next !== child) {
        copy ??= node.slice();
        copy[idx] = next;
      }
    };
    if (seg === WILDCARD) for (let idx = 0; idx < node.length; idx++) visit(idx);
    else if (/^(0|[1-9][0-9]*)$/.test(seg) && Number(seg) < node.length) visit(Number(seg));
    return copy ?? node;
  }
  const record = node as Record<string, unknown>;
  const keys = seg === WILDCARD ? Object.keys(record).sort() : Object.hasOwn(record, seg) ? [seg] : [];
  let copy: Record<string, unknown> | null = null;
  for (const key of keys) {
    const child = record[key];
    if (last) {
      removed.push(key, child);
      copy ??= { ...record };
      delete copy[key];
      continue;
    }
    const next = removeAt(child, segs, i + 1, removed);
    if (next !== child) {
      copy ??= { ...record };
      copy[key] = next;
    }
  }
  return copy ?? node;
}
