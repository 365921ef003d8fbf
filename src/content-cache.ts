import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One file of an esbuild output: its path under the build's outdir and its text. */
export interface BuiltFile {
  path: string;
  text: string;
}

/**
 * Writes a set of built files once per content under <nodeModules>/.cache/agent-retrace/<prefix>-<hash>/ (so their
 * bare imports resolve from there), atomically: a temp sibling renamed into place; a lost race leaves the winner's
 * identical copy. Used for the sandbox runtime (src/replay/sandbox/runtime-bundle.ts) and the recorder's writer
 * thread (src/recorder/writer-entry.ts) when retrace runs from its TypeScript sources. Returns the folder.
 */
export function writeContentAddressed(
  nodeModules: string,
  prefix: string,
  files: readonly BuiltFile[],
  base: string,
): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(f.path).update('\0').update(f.text).update('\0');
  const dir = join(nodeModules, '.cache', 'agent-retrace', `${prefix}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'package.json'), '{"type":"module"}');
  for (const f of files) {
    const target = join(tmp, f.path.slice(base.length));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.text);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // another process won the race: its copy is the same content
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
