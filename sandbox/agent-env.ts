/**
 * The agent's `process.env`: the job's variables only (src/replay/sandbox/child-env.ts chose them). A plain object in
 * place of the real environment block, so what the agent reads and writes never configures this process; values are
 * strings, as with the real process.env. Installed empty when the sandbox starts, before anything can read
 * process.env (the recorder's env capture wraps whatever process.env is when it loads), and filled from the job when
 * it arrives, before any agent code is imported — the same order whether the sandbox was pre-started or not.
 */
export interface AgentEnvView {
  /** replaces the view's whole content with the job's variables */
  fill(vars: Readonly<Record<string, string>>): void;
}

export function installAgentEnv(): AgentEnvView {
  // until the job arrives: the process's own fixed environment (its temp dir as home and temp, child-env.ts)
  const view: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (typeof value === 'string') view[name] = value;
  const env = new Proxy(view, {
    set(target, name, value) {
      if (typeof name !== 'string') return false;
      target[name] = String(value);
      return true;
    },
    defineProperty(target, name, descriptor) {
      if (typeof name !== 'string') return false;
      target[name] = String(descriptor.value);
      return true;
    },
  });
  process.env = env;
  return {
    fill(vars) {
      for (const name of Object.keys(view)) delete view[name];
      for (const [name, value] of Object.entries(vars)) view[name] = value;
    },
  };
}
