/**
 * The agent's `process.env`: the job's variables only (src/replay/sandbox/child-env.ts chose them). A plain object in
 * place of the real environment block, so what the agent reads and writes never configures this process; values are
 * strings, as with the real process.env.
 */
export function installAgentEnv(vars: Readonly<Record<string, string>>): void {
  const view: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) view[name] = value;
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
}
