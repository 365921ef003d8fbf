import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { Environment } from '../events/payloads.js';
import { projectRootOf } from '../recorder/project-root.js';

/**
 * The working directory the replayed agent starts in: where it was recorded, moved into the project the replay runs
 * in (the same folder relative to the project root), so relative file reads resolve in a clone as they did in the
 * original checkout; the recorded cwd itself when the project is the same or unknown; else the replay's cwd.
 */
export function replayCwd(recorded: Environment, cwd: string): string {
  const here = projectRootOf(cwd);
  if (recorded.projectRoot && recorded.cwd && here) {
    const rel = relative(recorded.projectRoot, recorded.cwd);
    if (!rel.startsWith('..') && !isAbsolute(rel)) {
      const moved = join(here, rel);
      if (existsSync(moved)) return moved;
    }
  }
  if (recorded.cwd && existsSync(recorded.cwd)) return recorded.cwd;
  return cwd;
}
