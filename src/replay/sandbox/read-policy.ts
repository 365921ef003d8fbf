import { readdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';

/**
 * What the sandbox may read: code, not data. Node's permission model only has allow-lists, so a folder that holds
 * something the agent must not read (the store file and its WAL, `.env*`, `.git`, credential dotfiles, the user's
 * home) is not allowed whole: it is expanded into its entries minus the denied ones, recursively where needed. The
 * agent's own folder is scanned for denied names at any depth (node_modules excepted: dependencies are code); other
 * allowed folders only lose the denied paths they contain. This is the one place that decides reads, so other rules
 * (a write overlay, say) extend `ReadPolicy` instead of adding flags elsewhere.
 */

/** Names that are data or credentials wherever they appear. */
const DENIED_NAME =
  /^(\.env(\..*)?|\.envrc|\.git|\.retrace|\.npmrc|\.yarnrc(\.yml)?|\.netrc|\.pgpass|\.git-credentials|\.pypirc|\.aws|\.ssh|\.gnupg|\.docker|\.kube|\.azure|\.gcloud|\.config|\.terraform\.d|\.vault-token|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?)$/;

export function isDeniedName(name: string): boolean {
  return DENIED_NAME.test(name);
}

export interface ReadPolicy {
  /** folders or files the agent may read; folders are scanned for denied names when `scan` is set */
  roots: ReadonlyArray<{ path: string; scan: boolean }>;
  /** exact paths never readable (the store file and its -wal/-shm/-journal siblings) */
  deny: readonly string[];
}

/** The store file and the siblings SQLite keeps next to it. */
export function storeFiles(location: string | undefined): string[] {
  if (!location) return [];
  const m = /^sqlite:(.+)$/.exec(location);
  const path = m?.[1] ?? (location.startsWith('/') ? location : undefined);
  if (!path || path === ':memory:') return [];
  const file = real(resolve(path));
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** The paths to pass as --allow-fs-read: every root, expanded around what is denied. */
export function expandReadPolicy(policy: ReadPolicy): string[] {
  const home = real(homedir());
  const deny = new Set(policy.deny.map((p) => real(resolve(p))));
  const out = new Set<string>();

  const deniedPath = (p: string, name: string, inHome: boolean): boolean =>
    isDeniedName(name) || deny.has(p) || (inHome && name.startsWith('.'));

  /** true when `dir` may be allowed whole; otherwise its allowed parts are added to `parts` */
  const walk = (dir: string, scan: boolean, parts: string[]): boolean => {
    // a folder that is the home folder, or on the way to it or to a denied path, is never allowed whole
    const mustExpand = isInside(home, dir) || [...deny].some((d) => isInside(d, dir) && d !== dir);
    if (!scan && !mustExpand) return true;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return !mustExpand;
    }
    const inHome = dir === home;
    let clean = !mustExpand;
    const childParts: string[] = [];
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (deniedPath(path, entry.name, inHome)) {
        clean = false;
        continue;
      }
      if (entry.isSymbolicLink()) {
        // permission checks follow symlinks: never let a link lead to what is denied
        const target = real(path);
        if (deny.has(target) || isDeniedName(basename(target)) || (isInside(target, home) && !isInside(dir, home))) {
          clean = false;
          continue;
        }
        childParts.push(path);
        continue;
      }
      if (entry.isDirectory()) {
        const sub: string[] = [];
        const scanSub = scan && entry.name !== 'node_modules';
        if (walk(path, scanSub, sub)) childParts.push(path);
        else {
          clean = false;
          childParts.push(...sub);
        }
      } else childParts.push(path);
    }
    if (!clean) parts.push(...childParts);
    return clean;
  };

  for (const root of policy.roots) {
    const path = real(resolve(root.path));
    if (deny.has(path) || isDeniedName(basename(path))) continue;
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      continue;
    }
    if (!isDir) {
      out.add(path);
      continue;
    }
    const parts: string[] = [];
    if (walk(path, root.scan && basename(path) !== 'node_modules', parts)) out.add(path);
    else for (const p of parts) out.add(p);
  }
  // a comma separates paths in --allow-fs-read on some Node versions: such a path cannot be granted exactly
  return [...out].filter((p) => !p.includes(','));
}
