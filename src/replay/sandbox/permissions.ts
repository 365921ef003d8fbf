import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expandReadPolicy } from './read-policy.js';
import { CODE_ROOT, OWN_NODE_MODULES, PACKAGE_ROOT, RUNTIME_DIR, real } from './runtime-bundle.js';

/**
 * What the child may touch under Node's permission model: reads where the agent's code, its node_modules and
 * retrace's own runtime live, writes only to its fresh temp dir, no child processes, no workers, no addons.
 */

/** The permission-model flag for this Node version (library notes §7). */
export function permissionFlag(version = process.versions.node): string {
  const major = Number(version.split('.')[0]);
  return major >= 24 ? '--permission' : '--experimental-permission';
}

/** The nearest node_modules folder at or above dir, if any. */
export function nearestNodeModules(dir: string): string | undefined {
  let d = resolve(dir);
  for (;;) {
    const candidate = join(d, 'node_modules');
    if (existsSync(candidate)) return candidate;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/**
 * The recorder looks for its package.json (version) and pricing/models.json by walking up from its own folder, and
 * under the permission model even existsSync of an unreadable path throws: allow exactly those probes, from the
 * recorder's folder up to the package root.
 */
const PACKAGE_PROBES: string[] = (() => {
  const out: string[] = [];
  for (let d = join(CODE_ROOT, 'src', 'recorder'); ; d = dirname(d)) {
    out.push(join(d, 'package.json'), join(d, 'pricing'), join(d, 'pricing', 'models.json'));
    if (d === PACKAGE_ROOT || dirname(d) === d) break;
  }
  return out;
})();

export interface PermissionInput {
  /** the file the child starts (the runtime, bundled or built) */
  runtimePath: string;
  /** the agent's own folder: allowed minus data and credential files at any depth (read-policy.ts) */
  codeDir?: string;
  /** more folders or files: allowed minus the denied paths they contain */
  readPaths: readonly string[];
  /** exact paths never readable (the store file and its WAL) */
  denyPaths?: readonly string[];
  tempDir: string;
}

/** The read allow-list of a sandbox: retrace's own runtime, the agent's code, the temp dir, the recorder probes. */
export function readAllowList(input: PermissionInput): string[] {
  const agentReads = expandReadPolicy({
    roots: [
      ...(input.codeDir ? [{ path: input.codeDir, scan: true }] : []),
      ...input.readPaths.map((path) => ({ path, scan: false })),
    ],
    deny: input.denyPaths ?? [],
  });
  const reads = new Set<string>([
    RUNTIME_DIR,
    dirname(input.runtimePath),
    join(CODE_ROOT, 'src'),
    input.tempDir,
    ...agentReads,
    ...PACKAGE_PROBES,
  ]);
  if (OWN_NODE_MODULES) reads.add(real(OWN_NODE_MODULES));
  return [...reads];
}

/** The node flags that put the child under the permission model with these allow-lists. */
export function permissionArgs(input: PermissionInput): string[] {
  return [
    permissionFlag(),
    ...readAllowList(input).map((p) => `--allow-fs-read=${p}`),
    `--allow-fs-write=${input.tempDir}`,
  ];
}
