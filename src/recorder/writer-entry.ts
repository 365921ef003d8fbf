import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeContentAddressed } from '../content-cache.js';

/**
 * Where the writer thread's code lives. Built (dist/src/recorder/): writer-worker.js next to this file, as tsc emits
 * it. From a source checkout (tsx, vitest): a worker thread does not inherit the parent's TypeScript loader, so
 * writer-worker.ts and the src/ files it imports are bundled into one ESM file with esbuild (packages external),
 * written once per content under node_modules/.cache/agent-retrace/ so its bare imports (better-sqlite3, zod)
 * resolve — the way the replay sandbox runs its runtime from source (src/replay/sandbox/runtime-bundle.ts); both
 * write through src/content-cache.ts.
 */
const BUILT = import.meta.url.endsWith('.js');
const require = createRequire(import.meta.url);

let bundled: Promise<URL> | undefined;

export function writerWorkerEntry(): Promise<URL> {
  if (BUILT) return Promise.resolve(new URL('./writer-worker.js', import.meta.url));
  bundled ??= bundleFromSource();
  return bundled;
}

interface OutputFile {
  path: string;
  text: string;
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: OutputFile[] }>;
}

const OUTDIR = '/retrace-bundle/';

async function bundleFromSource(): Promise<URL> {
  const esbuild = require('esbuild') as Esbuild;
  const out = await esbuild.build({
    entryPoints: { 'writer-worker': fileURLToPath(new URL('./writer-worker.ts', import.meta.url)) },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outdir: OUTDIR,
    logLevel: 'silent',
  });
  const files = out.outputFiles ?? [];
  if (files.length === 0) throw new Error('esbuild produced no output for the store writer');
  return pathToFileURL(join(writeOnce(files), 'writer-worker.js'));
}

/** The files under node_modules/.cache/agent-retrace/store-writer-<hash>/, written atomically (temp dir renamed). */
function writeOnce(files: readonly OutputFile[]): string {
  const dependency = require.resolve('better-sqlite3');
  const at = dependency.lastIndexOf(`${sep}node_modules${sep}`);
  if (at < 0) throw new Error('better-sqlite3 is not under a node_modules folder');
  return writeContentAddressed(dependency.slice(0, at + `${sep}node_modules`.length), 'store-writer', files, OUTDIR);
}
