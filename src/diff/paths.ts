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
  /** removed without being kept for the identical/equivalent decision: a difference here still counts as identical */
  silent?: boolean;
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
    return source
      .slice(1)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  return source.split('.');
}

/**
 * The ignore paths of one event type merged into a trie, so paths sharing a prefix (`payload.body.id`,
 * `payload.body.created`, …) walk that prefix once per event. Array indices are parsed once, here.
 */
export interface PathTrie {
  /** a path ends here: remove the value */
  end: boolean;
  /** every path ending here is silent (CompiledPath.silent): the removed value is not kept */
  silent: boolean;
  children: Map<string, PathTrie>;
  /** the child's array index, or -1 if the segment is not one */
  index: number;
  any: PathTrie | undefined;
}

function node(segment: string): PathTrie {
  return {
    end: false,
    silent: false,
    children: new Map(),
    index: /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : -1,
    any: undefined,
  };
}

export function buildTrie(paths: readonly CompiledPath[]): PathTrie {
  const root = node('');
  for (const p of paths) {
    let at = root;
    for (const seg of p.segments) {
      if (seg === WILDCARD) at = at.any ??= node(seg);
      else {
        let next = at.children.get(seg);
        if (!next) at.children.set(seg, (next = node(seg)));
        at = next;
      }
    }
    at.silent = at.end ? at.silent && p.silent === true : p.silent === true;
    at.end = true;
  }
  return root;
}

export const EMPTY_TRIE: PathTrie = buildTrie([]);

/**
 * Removes every value the trie selects, copying only the containers on the way (the input is never mutated, and
 * untouched subtrees are shared). The removed values are appended to `removed` in a deterministic order so that two
 * events can later be told "identical" (ignored values equal too) from "equivalent" (only ignored values differ).
 * An array item selected as the last segment is replaced by null rather than spliced, so later indices do not shift.
 */
export function removePaths(root: unknown, trie: PathTrie, removed: unknown[]): unknown {
  if (trie.children.size === 0 && trie.any === undefined) return root;
  return removeAt(root, trie, removed);
}

function removeAt(value: unknown, trie: PathTrie, removed: unknown[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    const visit = (idx: number, sub: PathTrie): void => {
      const current = copy ?? value;
      const child: unknown = current[idx];
      if (sub.end) {
        if (!sub.silent) removed.push(child);
        copy ??= value.slice();
        copy[idx] = null;
        return;
      }
      const next = removeAt(child, sub, removed);
      if (next !== child) {
        copy ??= value.slice();
        copy[idx] = next;
      }
    };
    for (const sub of trie.children.values()) if (sub.index >= 0 && sub.index < value.length) visit(sub.index, sub);
    if (trie.any) for (let idx = 0; idx < value.length; idx++) visit(idx, trie.any);
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  const visit = (key: string, sub: PathTrie): void => {
    const current = copy ?? record;
    if (!Object.hasOwn(current, key)) return;
    const child = current[key];
    if (sub.end) {
      if (!sub.silent) removed.push(key, child);
      copy ??= { ...record };
      delete copy[key];
      return;
    }
    const next = removeAt(child, sub, removed);
    if (next !== child) {
      copy ??= { ...record };
      copy[key] = next;
    }
  };
  for (const [key, sub] of trie.children) visit(key, sub);
  if (trie.any) for (const key of Object.keys(record).sort()) visit(key, trie.any);
  return copy ?? record;
}
