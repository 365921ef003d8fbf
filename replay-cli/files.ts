import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OutputFileError } from './errors.js';

/**
 * Writes a report file whole or not at all (a temporary sibling, then a rename), creating its folder: CI steps
 * upload report paths as artifacts, and a half-written HTML or JUnit file is worse than none.
 */
export function writeFileAtomic(path: string, text: string): void {
  const target = resolve(path);
  const temp = `${target}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(temp, text, 'utf8');
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new OutputFileError(
      `Cannot write ${path}: ${err instanceof Error ? err.message : String(err)}.`,
      'Check that the folder is writable and the disk has space, or omit --out to print to stdout.',
      { cause: err },
    );
  }
}
