import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The copy of agent-retrace the agent's own code imports (its `createRecorder`, `recorder.tool`): a dependency in
 * the project's node_modules, or the project itself when the agent lives inside agent-retrace's checkout (a package
 * self-reference). The sandbox must be able to read that copy's built files, since in replay the agent's tools and
 * run context go through it (they share the run with the sandbox's copy, see src/recorder/shared.ts).
 */
export function agentRetraceCopy(fromDir: string): string[] {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const dependency = join(dir, 'node_modules', 'agent-retrace');
    if (existsSync(join(dependency, 'package.json'))) return readable(dependency);
    const own = join(dir, 'package.json');
    if (existsSync(own)) {
      try {
        if ((JSON.parse(readFileSync(own, 'utf8')) as { name?: unknown }).name === 'agent-retrace')
          return readable(dir);
      } catch {
        // not a package.json we can read: keep looking
      }
    }
    if (dirname(dir) === dir) return [];
  }
}

function readable(pkg: string): string[] {
  let root = pkg;
  try {
    root = realpathSync(pkg);
  } catch {
    // keep the path as found
  }
  return ['package.json', 'dist', 'pricing'].map((p) => join(root, p)).filter((p) => existsSync(p));
}
