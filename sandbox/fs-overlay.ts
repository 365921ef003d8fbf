import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The replay's copy-on-write view of the project tree. A replayed agent's writes under its project root (the working
 * directory) go to a per-replay overlay folder inside the sandbox's temp dir — the only place the permission model
 * lets it write — so it reads back what it wrote and the host tree is never changed. Reads of a path check the
 * overlay first; a path the agent wrote in the recorded run is never read from the host (what the host has there now
 * is that run's output, not what the agent saw before writing it). Writes anywhere else (outside the project tree and
 * the temp dir) are refused with an error naming the path and the rule.
 */

type AnyFn = (...args: unknown[]) => unknown;

export interface OverlayOptions {
  root: string;
  /** the overlay folder (created here) */
  dir: string;
  /** where writes pass through unchanged (the sandbox temp dir) */
  tempDir: string;
  /** project-relative paths (forward slashes) the recorded run wrote */
  recordedWrites: readonly string[];
}

export class OverlayRefusedError extends Error {
  readonly code = 'ERR_ACCESS_DENIED';
  constructor(
    readonly path: string,
    root: string,
    tempDir: string,
  ) {
    super(
      `retrace replay refused to write ${path}: a replayed agent writes only under its project tree (${root}, into a per-replay overlay) or its temp dir (${tempDir}).`,
    );
    this.name = 'Error';
  }
}

function pathOf(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (p instanceof URL) return p.protocol === 'file:' ? fileURLToPath(p) : undefined;
  if (Buffer.isBuffer(p)) return p.toString('utf8');
  return undefined;
}

function enoent(syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${syscall} '${path}'`), {
    code: 'ENOENT',
    errno: -2,
    syscall,
    path,
  });
}

export function installFsOverlay(options: OverlayOptions): { uninstall(): void } {
  const real = { ...(fs as unknown as Record<string, AnyFn>) };
  const realPromises = { ...(fs.promises as unknown as Record<string, AnyFn>) };
  const root = resolve(options.root);
  const tempDir = resolve(options.tempDir);
  const dir = resolve(options.dir);
  real.mkdirSync?.(dir, { recursive: true });
  const deleted = new Set<string>();
  const recorded = new Set<string>();
  for (const p of options.recordedWrites) {
    recorded.add(p);
    // its folders too: a folder the recorded run created is not read from the host either
    for (let d = p; d.includes('/'); ) {
      d = d.slice(0, d.lastIndexOf('/'));
      recorded.add(d);
    }
  }

  // every read of the agent (its module loads included) asks these: on POSIX, resolved paths compare as strings
  // (path.relative is the slow part); Windows keeps path.relative's case-insensitive comparison
  const posix = sep === '/';
  const relOf = (abs: string, base: string): string | undefined => {
    if (posix) {
      const prefix = base.endsWith('/') ? base : `${base}/`;
      return abs.length > prefix.length && abs.startsWith(prefix) ? abs.slice(prefix.length) : undefined;
    }
    const rel = relative(base, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return rel.split(sep).join('/');
  };
  const within = (abs: string, base: string): boolean => abs === base || relOf(abs, base) !== undefined;
  const isDeleted = (rel: string): boolean => {
    for (let d = rel; ; d = d.slice(0, d.lastIndexOf('/'))) {
      if (deleted.has(d)) return true;
      if (!d.includes('/')) return false;
    }
  };
  const inOverlay = (rel: string): string => join(dir, ...rel.split('/'));
  // under the permission model a probe of a host path the sandbox may not read throws ERR_ACCESS_DENIED (data
  // folders are left out of the read allow-list, src/replay/sandbox/read-policy.ts): for the overlay it is not there
  const exists = (p: string): boolean => {
    try {
      return (real.existsSync as (p: string) => boolean)(p);
    } catch {
      return false;
    }
  };

  /** where a read of `p` goes: the overlay copy, the host path, or nowhere (ENOENT) */
  const readTarget = (p: unknown): { path: unknown; missing: string | undefined } => {
    const raw = pathOf(p);
    if (raw === undefined) return { path: p, missing: undefined };
    const abs = resolve(raw);
    if (within(abs, tempDir) || !within(abs, root) || abs === root) return { path: p, missing: undefined };
    const rel = relOf(abs, root) as string;
    const copy = inOverlay(rel);
    if (exists(copy)) return { path: copy, missing: undefined };
    if (isDeleted(rel) || recorded.has(rel)) return { path: copy, missing: abs };
    return { path: p, missing: undefined };
  };

  /** where a write to `p` goes; copies the host file first when the write modifies it (append) */
  const writeTarget = (p: unknown, copyHost: boolean): unknown => {
    const raw = pathOf(p);
    if (raw === undefined) return p;
    const abs = resolve(raw);
    if (within(abs, tempDir)) return p;
    if (!within(abs, root) || abs === root) throw new OverlayRefusedError(abs, root, tempDir);
    const rel = relOf(abs, root) as string;
    const copy = inOverlay(rel);
    const parent = dirname(rel.split('/').join(sep));
    const parentRel = parent === '.' ? undefined : parent.split(sep).join('/');
    // the folder exists in the merged view (host or overlay): make it in the overlay
    // (or the recorded run wrote this very path: its folder existed then)
    if (
      parentRel === undefined ||
      exists(inOverlay(parentRel)) ||
      (!isDeleted(parentRel) && (recorded.has(rel) || exists(join(root, parent))))
    )
      real.mkdirSync?.(dirname(copy), { recursive: true });
    if (copyHost && !exists(copy)) {
      const from = readTarget(abs);
      if (from.missing === undefined && from.path === p && exists(abs)) real.copyFileSync?.(abs, copy);
    }
    deleted.delete(rel);
    return copy;
  };

  const removeTarget = (p: unknown): unknown => {
    const raw = pathOf(p);
    if (raw === undefined) return p;
    const abs = resolve(raw);
    if (within(abs, tempDir)) return p;
    if (!within(abs, root) || abs === root) throw new OverlayRefusedError(abs, root, tempDir);
    const rel = relOf(abs, root) as string;
    deleted.add(rel);
    return inOverlay(rel);
  };

  const g = fs as unknown as Record<string, AnyFn>;
  const gp = fs.promises as unknown as Record<string, AnyFn>;
  const mapFirst =
    (fn: AnyFn | undefined, map: (p: unknown) => unknown, syscall: string): AnyFn =>
    (...args: unknown[]) => {
      const first = args[0];
      const target = map(first);
      if (target && typeof target === 'object' && 'missing' in (target as object)) {
        const t = target as { path: unknown; missing?: string };
        if (t.missing !== undefined) throw enoent(syscall, t.missing);
        args[0] = t.path;
      } else args[0] = target;
      return (fn as AnyFn)(...args);
    };
  // callback and promise variants report errors the way fs does, not by throwing synchronously
  const viaCallback =
    (sync: AnyFn): AnyFn =>
    (...args: unknown[]) => {
      const cb = args[args.length - 1] as AnyFn;
      try {
        const target = sync(...args.slice(0, -1));
        return cb(null, target);
      } catch (err) {
        return cb(err);
      }
    };

  const read = (p: unknown) => readTarget(p);
  const write = (p: unknown) => writeTarget(p, false);
  const append = (p: unknown) => writeTarget(p, true);

  const patchSet = (
    name: string,
    map: (p: unknown) => unknown,
    syscall: string,
    promise = true,
    callback = true,
  ): void => {
    const syncName = `${name}Sync`;
    if (real[syncName]) g[syncName] = mapFirst(real[syncName], map, syscall);
    if (callback && real[name])
      g[name] = (...args: unknown[]) => {
        try {
          return mapFirst(real[name], map, syscall)(...args);
        } catch (err) {
          const cb = args[args.length - 1];
          if (typeof cb === 'function') return process.nextTick(() => (cb as AnyFn)(err));
          throw err;
        }
      };
    if (promise && realPromises[name])
      gp[name] = async (...args: unknown[]) => mapFirst(realPromises[name], map, syscall)(...args);
  };

  patchSet('writeFile', write, 'open');
  patchSet('appendFile', append, 'open');
  patchSet('mkdir', write, 'mkdir');
  patchSet('readFile', read, 'open');
  patchSet('stat', read, 'stat');
  patchSet('lstat', read, 'lstat');
  patchSet('access', read, 'access');
  g.existsSync = (p: unknown) => {
    try {
      const t = readTarget(p);
      return t.missing === undefined && exists(pathOf(t.path) ?? '');
    } catch {
      return false;
    }
  };
  g.createWriteStream = mapFirst(real.createWriteStream, write, 'open');
  g.createReadStream = (...args: unknown[]) => {
    const t = readTarget(args[0]);
    args[0] = t.missing !== undefined ? join(dir, '\u0000missing') : t.path;
    return (real.createReadStream as AnyFn)(...args);
  };

  // removals: the overlay forgets the path (and its copy); the host file stays
  const rmSync = (p: unknown, opts?: { force?: boolean; recursive?: boolean }): void => {
    const before = readTarget(p);
    const existed = before.missing === undefined && exists(pathOf(before.path) ?? '');
    const copy = removeTarget(p) as string;
    if (copy === p) return void (real.rmSync as AnyFn)(p, opts);
    if (!existed && !opts?.force) throw enoent('rm', resolve(pathOf(p) ?? ''));
    if (exists(copy)) (real.rmSync as AnyFn)(copy, { recursive: true, force: true });
  };
  g.rmSync = rmSync as AnyFn;
  g.unlinkSync = ((p: unknown) => rmSync(p)) as AnyFn;
  g.rm = viaCallback((p, o) => rmSync(p, o as { force?: boolean }));
  g.unlink = viaCallback((p) => rmSync(p));
  gp.rm = async (p: unknown, o?: unknown) => rmSync(p, o as { force?: boolean });
  gp.unlink = async (p: unknown) => rmSync(p);

  const renameSync = (from: unknown, to: unknown): void => {
    const src = readTarget(from);
    if (pathOf(src.path) === pathOf(from) && src.missing === undefined) {
      const abs = resolve(pathOf(from) ?? '');
      if (!within(abs, root) || within(abs, tempDir)) {
        const dest = writeTarget(to, false);
        return void (real.renameSync as AnyFn)(from, dest);
      }
    }
    if (src.missing !== undefined) throw enoent('rename', src.missing);
    const dest = writeTarget(to, false) as string;
    const srcPath = pathOf(src.path) as string;
    if (srcPath.startsWith(dir)) (real.renameSync as AnyFn)(srcPath, dest);
    else (real.cpSync as AnyFn)(srcPath, dest, { recursive: true });
    removeTarget(from);
  };
  g.renameSync = renameSync as AnyFn;
  g.rename = viaCallback((a, b) => renameSync(a, b));
  gp.rename = async (a: unknown, b: unknown) => renameSync(a, b);

  // a folder's entries: the host's (minus what the overlay removed or the recorded run wrote) plus the overlay's
  const readdirSync = (p: unknown, opts?: unknown): unknown[] => {
    const raw = pathOf(p);
    const abs = raw !== undefined ? resolve(raw) : undefined;
    if (abs === undefined || within(abs, tempDir) || !within(abs, root))
      return real.readdirSync?.(p, opts) as unknown[];
    const rel = abs === root ? '' : (relOf(abs, root) as string);
    const copy = rel === '' ? dir : inOverlay(rel);
    const host =
      (rel === '' || (!isDeleted(rel) && !recorded.has(rel))) && exists(abs)
        ? (real.readdirSync?.(abs, opts) as unknown[])
        : undefined;
    const over = exists(copy) ? (real.readdirSync?.(copy, opts) as unknown[]) : undefined;
    if (!host && !over) throw enoent('scandir', abs);
    const nameOf = (e: unknown): string => (typeof e === 'string' ? e : String((e as { name: unknown }).name));
    const out = new Map<string, unknown>();
    for (const e of host ?? []) {
      const childRel = rel === '' ? nameOf(e) : `${rel}/${nameOf(e)}`;
      if (!isDeleted(childRel) && !recorded.has(childRel)) out.set(nameOf(e), e);
    }
    for (const e of over ?? []) out.set(nameOf(e), e);
    return [...out.values()];
  };
  g.readdirSync = readdirSync as AnyFn;
  g.readdir = viaCallback((p, o) => readdirSync(p, typeof o === 'function' ? undefined : o));
  gp.readdir = async (p: unknown, o?: unknown) => readdirSync(p, o);

  syncBuiltinESMExports();
  return {
    uninstall() {
      Object.assign(g, real);
      Object.assign(gp, realPromises);
      syncBuiltinESMExports();
    },
  };
}
