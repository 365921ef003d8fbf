import { readdirSync, statSync, type Dirent } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { InputFileError, ValidationError } from '../errors.js';
import { NoGoldenFilesError } from './errors.js';
import { readTraceFile, type FileTrace } from './ndjson.js';

/**
 * Finding and loading the golden traces of `retrace ci`.
 *
 * Paths (Node 20 has no fs.glob, so this is a deliberately small subset, documented in `retrace ci --help`):
 *   - a folder: every `*.ndjson` file directly inside it (NOT recursive; use `DIR/**\/*.ndjson` for subfolders);
 *   - a file: that file, whatever its extension;
 *   - a pattern with `*` (any characters within one path segment), `?` (one character) or a whole segment `**` (zero
 *     or more folders). Names starting with "." match only when the pattern segment starts with "." too. Brackets and
 *     braces (`[ab]`, `{a,b}`) are not special: they match themselves.
 * Several paths may be given (the shell may already have expanded an unquoted glob); overlaps count once. Anything
 * that matches no file is an input error (exit 2), so a typo cannot make CI pass by testing nothing.
 */

const GLOB_CHARS = /[*?]/;

export interface GoldenTrace extends FileTrace {
  /** the file the trace was read from, as the user named it (relative to the cwd when it is inside it) */
  file: string;
}

function segmentRegex(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // a folder we cannot read matches nothing; the "matches nothing" error names the pattern
  }
}

function isDir(path: string, entry?: Dirent): boolean {
  if (entry && !entry.isSymbolicLink()) return entry.isDirectory();
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string, entry?: Dirent): boolean {
  if (entry && !entry.isSymbolicLink()) return entry.isFile();
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Expands a glob pattern (the subset above) relative to `cwd`; returns absolute file paths. */
export function expandGlob(pattern: string, cwd: string): string[] {
  const normalized = pattern.replace(/\\/g, '/');
  const absolute = isAbsolute(normalized);
  const segments = normalized.split('/').filter((s, i) => s !== '' && !(s === '.' && i > 0));
  const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  const baseSegments = firstGlob < 0 ? segments : segments.slice(0, firstGlob);
  const base = resolve(cwd, absolute ? `/${baseSegments.join('/')}` : baseSegments.join('/') || '.');
  const rest = firstGlob < 0 ? [] : segments.slice(firstGlob);
  const found = new Set<string>();

  const walk = (dir: string, i: number): void => {
    const segment = rest[i];
    if (segment === undefined) return;
    const last = i === rest.length - 1;
    if (segment === '**') {
      if (last) {
        // a trailing ** means every file below
        for (const e of listDir(dir)) {
          if (e.name.startsWith('.')) continue;
          const p = join(dir, e.name);
          if (isDir(p, e)) walk(p, i);
          else if (isFile(p, e)) found.add(p);
        }
        return;
      }
      walk(dir, i + 1);
      for (const e of listDir(dir)) {
        const p = join(dir, e.name);
        if (!e.name.startsWith('.') && isDir(p, e)) walk(p, i);
      }
      return;
    }
    if (!GLOB_CHARS.test(segment)) {
      const p = join(dir, segment);
      if (last ? isFile(p) : isDir(p)) last ? found.add(p) : walk(p, i + 1);
      return;
    }
    const re = segmentRegex(segment);
    for (const e of listDir(dir)) {
      if (e.name.startsWith('.') && !segment.startsWith('.')) continue;
      if (!re.test(e.name)) continue;
      const p = join(dir, e.name);
      if (last ? isFile(p, e) : isDir(p, e)) last ? found.add(p) : walk(p, i + 1);
    }
  };
  if (rest.length > 0 && isDir(base)) walk(base, 0);
  return [...found];
}

/** The golden files named by the command line's paths, absolute, sorted, each once. */
export function findGoldenFiles(paths: readonly string[], cwd: string): string[] {
  const files = new Set<string>();
  for (const path of paths) {
    if (GLOB_CHARS.test(path)) {
      const matched = expandGlob(path, cwd);
      if (matched.length === 0) {
        throw new NoGoldenFilesError(
          `No golden trace files match "${path}".`,
          'Check the pattern (supported: *, ? and ** segments; a folder means its *.ndjson files), or write the goldens first with `retrace export TRACE_ID --out goldens/NAME.ndjson`.',
          'paths',
        );
      }
      for (const f of matched) files.add(f);
      continue;
    }
    const abs = resolve(cwd, path);
    if (isDir(abs)) {
      const inside = listDir(abs)
        .filter((e) => e.name.endsWith('.ndjson') && !e.name.startsWith('.') && isFile(join(abs, e.name), e))
        .map((e) => join(abs, e.name));
      if (inside.length === 0) {
        throw new NoGoldenFilesError(
          `The folder ${path} holds no *.ndjson files.`,
          'A folder is searched for *.ndjson files directly inside it (not in subfolders; pass "DIR/**/*.ndjson" for those).',
          'paths',
        );
      }
      for (const f of inside) files.add(f);
    } else if (isFile(abs)) {
      files.add(abs);
    } else {
      throw new InputFileError(
        `No such file or folder: ${path}.`,
        'Pass the folder (or a glob such as "goldens/*.ndjson") holding the golden traces written by `retrace export`.',
        'paths',
      );
    }
  }
  return [...files].sort(compareCodeUnits);
}

/** Plain code-unit order: the same on every machine and locale (localeCompare is not), which sharding relies on. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path as the user would write it: relative to the cwd when it is inside it. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads and validates every golden file (the `retrace import` rules: schema, seq order, hash chain) before anything
 * is written; the first bad line fails the whole run naming file and line. The same trace in two files is fine when
 * the files agree on its events, an input error otherwise. Returns the traces sorted by trace id.
 */
export async function loadGoldens(files: readonly string[], cwd: string): Promise<GoldenTrace[]> {
  const byId = new Map<string, GoldenTrace>();
  for (const abs of files) {
    const file = displayPath(abs, cwd);
    // read under the name the user knows, so a bad line is reported as "goldens/a.ndjson line 3"
    for (const trace of await readTraceFile(cwd === process.cwd() ? file : abs)) {
      const seen = byId.get(trace.traceId);
      if (!seen) {
        byId.set(trace.traceId, { ...trace, file });
        continue;
      }
      const same =
        seen.events.length === trace.events.length && seen.events.every((e, i) => e.hash === trace.events[i]?.hash);
      if (!same) {
        throw new ValidationError(
          `Trace "${trace.traceId}" appears in both ${seen.file} and ${file} with different events. Nothing was imported.`,
          'Keep one golden file per trace (export it again with `retrace export`), or delete the stale copy.',
          'paths',
        );
      }
    }
  }
  return [...byId.values()].sort((a, b) => compareCodeUnits(a.traceId, b.traceId));
}

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

/**
 * The shard rule: sort the golden trace ids (code-unit order), number them from 0, and give trace k to shard
 * (k mod N) + 1. Every trace lands in exactly one shard and shard sizes differ by at most one. Adding or removing a
 * golden can move others between shards; that is fine, since each CI run shards the set it has.
 */
export function selectShard<T extends { traceId: string }>(sorted: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...sorted];
  return sorted.filter((_, k) => k % shard.count === shard.index - 1);
}
