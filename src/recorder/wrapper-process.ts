import { basename } from 'node:path';

/**
 * `retrace record -- npx tsx agent.ts` and `-- npm run agent` preload the recorder (NODE_OPTIONS --import) into every
 * Node process of the command: npm/npx, the tsx command-line wrapper, and finally the agent. Only the agent's own
 * process is the trace; the launchers in front of it are recognised by their main script and left unrecorded (their
 * children inherit NODE_OPTIONS and get their turn). The process that records then removes the preload from its own
 * environment, so that processes the agent itself starts are not recorded into the same trace.
 */
const LAUNCHERS: readonly RegExp[] = [
  /[\\/]npm[\\/]bin[\\/](npm|npx)-cli\.js$/,
  /[\\/]tsx[\\/]dist[\\/]cli\.m?js$/,
  /[\\/](pnpm|yarn|corepack)[\\/]/,
  /[\\/]node_modules[\\/]\.bin[\\/](npm|npx|pnpm|yarn|tsx)$/,
];

/** True when `script` (process.argv[1]) is a launcher that starts the real program in a child process. */
export function isLauncherScript(script: string | undefined): boolean {
  if (!script) return false;
  if (LAUNCHERS.some((re) => re.test(script))) return true;
  // a bin link as invoked (/usr/bin/npx, node_modules/.bin/tsx): Node keeps the link's path in argv[1]
  return ['npm-cli.js', 'npx-cli.js', 'npm', 'npx', 'pnpm', 'pnpx', 'yarn', 'tsx', 'corepack'].includes(
    basename(script),
  );
}

/** NODE_OPTIONS without the `--import`/`--import=` of the recorder (`url` or any agent-retrace register module). */
export function withoutRecorderPreload(nodeOptions: string | undefined): string {
  const parts = (nodeOptions ?? '').split(/\s+/).filter((p) => p !== '');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const value = p.startsWith('--import=') ? p.slice('--import='.length) : p === '--import' ? parts[i + 1] : undefined;
    if (value !== undefined && /agent-retrace[\\/]register|recorder[\\/]register\.(js|ts)/.test(value)) {
      if (p === '--import') i++;
      continue;
    }
    out.push(p);
  }
  return out.join(' ');
}
