import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeContentAddressed as writeBuiltFiles } from '../../content-cache.js';

/**
 * Where the child's code lives. The runtime the child runs is sandbox/runtime.ts (source checkout) or
 * dist/sandbox/runtime.js (built); this module sits at src/replay/sandbox/ in either tree.
 */

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** the checkout (or dist/) root that holds sandbox/ and src/ */
export const CODE_ROOT = resolve(here, '..', '..', '..');
/** sandbox/ (source) or dist/sandbox/ (built) */
export const RUNTIME_DIR = join(CODE_ROOT, 'sandbox');
export const RUNTIME_PATH = join(RUNTIME_DIR, `runtime${ext}`);
/** the package root (package.json, pricing/): the checkout, or the parent of dist/ */
export const PACKAGE_ROOT = (() => {
  for (let d = CODE_ROOT; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dirname(CODE_ROOT);
  }
})();

function packageDirOf(specifier: string): string | undefined {
  try {
    const file = fileURLToPath(import.meta.resolve(specifier));
    const i = file.lastIndexOf(`${sep}node_modules${sep}`);
    return i >= 0 ? file.slice(0, i + sep.length + 'node_modules'.length) : undefined;
  } catch {
    return undefined;
  }
}

/** the node_modules folder retrace's own dependencies come from */
export const OWN_NODE_MODULES = packageDirOf('zod');

export function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

interface EsbuildOutputFile {
  path: string;
  text: string;
}
interface Esbuild {
  buildSync(o: Record<string, unknown>): { outputFiles?: EsbuildOutputFile[] };
  build(
    o: Record<string, unknown>,
  ): Promise<{ outputFiles?: EsbuildOutputFile[]; metafile?: { inputs: Record<string, unknown> } }>;
}

/** esbuild, when installed (a dependency of tsx); undefined otherwise */
export function loadEsbuild(): Esbuild | undefined {
  try {
    return createRequire(import.meta.url)('esbuild') as Esbuild;
  } catch {
    return undefined;
  }
}

/**
 * Writes a set of files once per content under node_modules/.cache/agent-retrace/<prefix>-<hash>/ (so bare imports
 * resolve from there), atomically: a temp sibling renamed into place; a lost race leaves the winner's identical copy.
 */
export function writeContentAddressed(prefix: string, files: readonly EsbuildOutputFile[], base: string): string {
  if (!OWN_NODE_MODULES) throw new Error('no node_modules to cache into');
  return real(writeBuiltFiles(OWN_NODE_MODULES, prefix, files, base));
}

/**
 * The runtime the child runs. Built (dist/): runtime.js as is. From a source checkout: runtime.ts and the src/ files
 * it imports bundled into one ESM file with esbuild (packages stay external), written under node_modules/.cache so
 * bare imports resolve, once per content — so the child needs no TypeScript loader for retrace's own code.
 */
let bundled: string | undefined;
export function runtimeEntry(): string {
  if (ext === '.js') return RUNTIME_PATH;
  if (bundled) return bundled;
  const esbuild = loadEsbuild();
  if (!esbuild) throw new Error('esbuild is not installed, and running retrace from source needs it');
  // splitting keeps dynamic imports lazy (store backends with native addons are never loaded in the sandbox)
  const out = esbuild.buildSync({
    entryPoints: { runtime: RUNTIME_PATH },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outdir: '/retrace-bundle',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const files = out.outputFiles ?? [];
  if (files.length === 0) throw new Error('esbuild produced no output for the sandbox runtime');
  bundled = join(writeContentAddressed('sandbox-runtime', files, '/retrace-bundle/'), 'runtime.js');
  return bundled;
}
