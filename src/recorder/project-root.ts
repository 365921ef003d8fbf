import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Paths in a trace (a recorded entry, a zero-code script) are stored relative to the project they belong to — the
 * nearest folder with a package.json — so that a golden recorded in one checkout replays in another (a CI runner, a
 * colleague's clone), where the replay resolves them against its own project (src/replay/entry.ts).
 */
export function projectRootOf(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (exists(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** existsSync that answers false where it may not look (under the permission model, in the replay sandbox, it throws) */
function exists(path: string): boolean {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}

/** `file` (absolute, or relative to cwd) as a project-relative path with `/` separators, and the project root. */
export function toProjectPath(file: string, cwd: string): { path: string; root: string } | undefined {
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  const root = projectRootOf(dirname(abs));
  if (root === undefined) return undefined;
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return { path: rel.split(sep).join('/'), root };
}

/** `entry` (`path#export`) with its path made project-relative; unchanged when it is not inside a project. */
export function projectEntry(entry: string, cwd: string): { entry: string; root: string } | undefined {
  const i = entry.lastIndexOf('#');
  const path = i > 0 ? entry.slice(0, i) : entry;
  const rest = i > 0 ? entry.slice(i) : '';
  const p = toProjectPath(path, cwd);
  return p ? { entry: `${p.path}${rest}`, root: p.root } : undefined;
}
