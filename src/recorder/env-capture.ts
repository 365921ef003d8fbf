import type { EnvRead } from '../events/payloads.js';
import { isProcessControlEnvName } from '../events/env-names.js';
import { agentRun, INTERNAL, runStorage } from './context.js';
import { redactString, redactUrl } from './redact.js';
import { type RunState, sameEnvRead } from './run.js';
import { acquireShared, shared } from './shared.js';

/**
 * The environment as a recorded input, like the clock: while installed, `process.env` is a transparent Proxy that
 * notes the first read of each variable by agent code — its value, that it was absent, or (for credentials) only that
 * it was present — and any later read that sees it changed (the replay serves the last). A replay then gives the agent exactly those variables (src/replay/env.ts), so an agent configured
 * by `LLM_URL`, `MODEL` or a feature flag builds the same requests again, and nothing from the replaying host leaks in.
 *
 * Reads made outside any run (a client built at module load, before `recorder.run`) are kept process-wide and given
 * to every run that starts afterwards: they are that run's configuration too. Names that control the Node process
 * (isProcessControlEnvName), retrace's own reads (internal) and names in RETRACE_ENV_DENY are never recorded.
 */

/** Names that hold credentials: recorded as present, never with their value. */
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|COOKIE|AUTH|PRIVATE|SESSION)/i;

/** A comma-separated list of names; a trailing `*` matches a prefix. */
export function nameMatcher(list: string | undefined): (name: string) => boolean {
  const items = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) return () => false;
  return (name) => items.some((item) => (item.endsWith('*') ? name.startsWith(item.slice(0, -1)) : name === item));
}

/** What a read of `name` is recorded as. */
export function envReadOf(name: string, value: string | undefined): EnvRead {
  if (value === undefined) return { absent: true };
  if (SECRET_NAME.test(name)) return { redacted: true };
  const cleaned = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : redactString(value);
  return cleaned === value ? { value } : { redacted: true };
}

/** reads found to be made by code that is not the agent's (readByNonAgentCode), by name */
const notAgentReads = new Map<string, EnvRead>();

/** one map per process, whichever copy installed the proxy (see shared.ts) */
const ambient = (shared.ambientEnv ??= new Map<string, unknown>()) as Map<string, EnvRead>;
let denied: (name: string) => boolean = () => false;

/** the variables read outside any run so far (given to each run when it starts) */
export function ambientEnvReads(): ReadonlyMap<string, EnvRead> {
  return ambient;
}

/**
 * Code whose reads are not the agent's: Node's own (`node:internal/…`: the ESM loader's WATCH_REPORT_DEPENDENCIES,
 * console's FORCE_COLOR) configures the runtime, and a replay runs on its own; the logger inside the interceptors
 * retrace captures HTTP with reads DEBUG/LOG_LEVEL whenever it makes a logger, often inside the agent's request.
 */
const NOT_AGENT_CODE = /\(node:|at node:|[\\/]node_modules[\\/]@open-draft[\\/]logger[\\/]/;

/**
 * Whether the read of a variable was made by NOT_AGENT_CODE, from a one-frame stack. Asked only for a read that would
 * be recorded (a name not read yet, or read with another value).
 */
function readByNonAgentCode(trap: (...args: never[]) => unknown): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, trap);
  Error.stackTraceLimit = limit;
  const caller = holder.stack?.split('\n')[1] ?? '';
  return NOT_AGENT_CODE.test(caller);
}

function note(name: string, value: string | undefined, trap: (...args: never[]) => unknown): void {
  // retrace's own reads (its configuration, the allow-listed env it stores) are not the agent's
  if (shared.suppressDepth > 0 || runStorage.getStore() === INTERNAL) return;
  if (isProcessControlEnvName(name) || denied(name)) return;
  const run = agentRun() as RunState | undefined;
  if (run && run.config.captureEnvironment === false) return;
  const read = envReadOf(name, value);
  // a read that says what the last recorded one said is not news (and costs no stack)
  const last = run ? run.lastEnvRead(name) : ambient.get(name);
  if (last !== undefined && sameEnvRead(last, read)) return;
  // Node reads FORCE_COLOR on every console.log: once a name's read was found to be that code's, the same read again is
  // taken to be too (a stack each time cost ~6 µs per log line). Limit: the agent's own read of such a name, with the
  // value Node saw, is then not recorded
  const theirs = notAgentReads.get(name);
  if (theirs !== undefined && sameEnvRead(theirs, read)) return;
  if (readByNonAgentCode(trap)) {
    notAgentReads.set(name, read);
    return;
  }
  if (run) run.recordEnvRead(name, read);
  else ambient.set(name, read);
}

/** the process's own environment object, behind the proxy */
let realEnv: NodeJS.ProcessEnv | undefined;

/**
 * A request to a URL that a variable holds (`LLM_URL=http://gateway/v1` → a POST to http://gateway/v1/chat/…) was
 * configured by that variable, whether or not the proxy saw the read: a client built before agent-retrace loaded
 * read it before there was a proxy. Recorded as a read of it, so the replayed agent builds the same client.
 */
export function noteEnvBehindUrl(run: RunState, url: string): void {
  if (run.config.captureEnvironment === false) return;
  const env = realEnv ?? process.env;
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (value === undefined || !/^https?:\/\//i.test(value)) continue;
    const base = value.replace(/\/+$/, '');
    if (url !== base && !url.startsWith(`${base}/`) && !url.startsWith(`${base}?`)) continue;
    if (isProcessControlEnvName(name) || denied(name) || run.lastEnvRead(name) !== undefined) continue;
    run.recordEnvRead(name, envReadOf(name, value));
  }
}

function installEnvProxy(): () => void {
  const real = process.env;
  realEnv = real;
  denied = nameMatcher(real.RETRACE_ENV_DENY);
  const proxy = new Proxy(real, {
    get: function get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof prop === 'string') note(prop, typeof value === 'string' ? value : undefined, get);
      return value;
    },
    // assign on the real object: Node's process.env coerces values to strings and refuses the partial descriptor a
    // default set trap would define through the proxy
    set(target, prop, value) {
      if (typeof prop === 'string') target[prop] = value as string;
      else Reflect.set(target, prop, value);
      return true;
    },
    has: function has(target, prop) {
      const present = Reflect.has(target, prop);
      if (typeof prop === 'string') note(prop, present ? (target[prop] as string) : undefined, has);
      return present;
    },
  });
  process.env = proxy;
  return () => {
    if (process.env === proxy) process.env = real;
    realEnv = undefined;
  };
}

/** Installs the process.env proxy (once per process across copies of agent-retrace); returns the release function. */
export function acquireEnvCapture(): () => void {
  return acquireShared('env', installEnvProxy);
}
