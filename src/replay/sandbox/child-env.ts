import { isProcessControlEnvName } from '../../events/env-names.js';

/**
 * Two environments, never mixed. The sandbox *process* gets a fixed environment built here — nothing from a trace and
 * nothing from the host's environment, so no trace can choose NODE_OPTIONS, LD_PRELOAD or a loader. The *agent* sees
 * its own variables (the recorded ones, placeholders for SDK keys, the caller's `env`) as its `process.env` view,
 * installed by the runtime (sandbox/agent-env.ts) from the job; names that configure a process are dropped from that
 * view too, so a later child process of the agent (if a platform ever allowed one) could not inherit them.
 */

/** The whole environment of the sandbox process: its own temp dir as home and temp, nothing else. */
export function sandboxProcessEnv(tempDir: string): Record<string, string> {
  const env: Record<string, string> = { HOME: tempDir, TMPDIR: tempDir, TMP: tempDir, TEMP: tempDir };
  // Windows cannot start a process without these two (they are the OS's, not the trace's)
  if (process.platform === 'win32')
    for (const name of ['SystemRoot', 'windir']) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
  return env;
}

export interface AgentEnv {
  env: Record<string, string>;
  /** names dropped because they configure a process (sorted, unique) */
  dropped: string[];
}

/** Merges the agent's variable sources (later wins) and drops process-controlling names. */
export function agentEnv(...sources: ReadonlyArray<Readonly<Record<string, string>> | undefined>): AgentEnv {
  const env: Record<string, string> = {};
  const dropped = new Set<string>();
  for (const source of sources) {
    if (!source) continue;
    for (const [name, value] of Object.entries(source)) {
      if (typeof value !== 'string') continue;
      if (isProcessControlEnvName(name)) dropped.add(name);
      else env[name] = value;
    }
  }
  return { env, dropped: [...dropped].sort() };
}

/** The warning text for dropped names ("" when none). */
export function droppedEnvWarning(dropped: readonly string[], where: string): string {
  if (dropped.length === 0) return '';
  return `retrace: ignored ${dropped.length === 1 ? 'variable' : 'variables'} ${dropped.join(', ')} from ${where}: names that configure Node, a loader, the dynamic linker, a proxy or retrace itself never reach a replayed agent.`;
}
