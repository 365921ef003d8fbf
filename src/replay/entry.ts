import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { StoredEventOf } from '../events/envelope.js';
import { projectRootOf } from '../recorder/project-root.js';
import { EntryNotFoundError, NoAgentEntryError } from './errors.js';

/** What the sandbox runs: a module's exported function (api traces) or a script as the main module (zero-code). */
export type ResolvedEntry =
  | { kind: 'api'; file: string; exportName: string; entry: string }
  | { kind: 'process'; file: string; args: string[]; entry: string };

function splitEntry(entry: string): { path: string; exportName: string | undefined } {
  const i = entry.lastIndexOf('#');
  return i > 0
    ? { path: entry.slice(0, i), exportName: entry.slice(i + 1) || undefined }
    : { path: entry, exportName: undefined };
}

function findFile(path: string, bases: readonly (string | undefined)[], shown: string): string {
  if (isAbsolute(path)) {
    if (existsSync(path) && statSync(path).isFile()) return path;
    throw new EntryNotFoundError(shown, [path]);
  }
  const tried: string[] = [];
  for (const base of bases) {
    if (base === undefined) continue;
    const candidate = resolve(base, path);
    if (tried.includes(candidate)) continue;
    tried.push(candidate);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new EntryNotFoundError(shown, tried);
}

/**
 * The entry to replay: `agent` when given (`path#export`, or a path: then the recorded export name, or for a
 * zero-code trace the script to run instead of the recorded one), else what agent_started recorded. A recorded path
 * resolves against the current project (nearest package.json from `cwd`) first, then the recorded project root and
 * cwd; a given one against `cwd`, then the recorded cwd.
 */
export function resolveEntry(
  started: StoredEventOf<'agent_started'>,
  agent: string | undefined,
  cwd: string,
): ResolvedEntry {
  const p = started.payload;
  // recorded paths are relative to the recorded project root: resolve them in the project the replay runs in
  // first (a clone, a CI checkout), then where they were recorded
  const here = projectRootOf(cwd);
  const recordedRoot = p.environment.projectRoot;
  const recordedCwd = p.environment.cwd;
  const recordedBases = [here, recordedRoot, recordedCwd, cwd];
  if (p.mode === 'process') {
    const argv = p.environment.argv ?? [];
    const recordedScript = argv[0];
    const script = agent ? splitEntry(agent).path : recordedScript;
    if (!script) throw new NoAgentEntryError(started.traceId);
    const file = findFile(script, agent ? [cwd, recordedCwd] : recordedBases, script);
    return { kind: 'process', file, args: argv.slice(1), entry: script };
  }
  const recorded = p.entry ? splitEntry(p.entry) : undefined;
  const given = agent ? splitEntry(agent) : undefined;
  const path = given?.path ?? recorded?.path;
  const exportName = given?.exportName ?? recorded?.exportName ?? 'default';
  if (!path) throw new NoAgentEntryError(started.traceId);
  const file = findFile(path, given ? [cwd, recordedCwd] : recordedBases, agent ?? p.entry ?? path);
  return { kind: 'api', file, exportName, entry: `${path}#${exportName}` };
}
