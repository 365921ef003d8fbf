import type { StoredEvent } from '../events/envelope.js';
import { isProcessControlEnvName } from '../events/env-names.js';
import { nameMatcher } from '../recorder/env-capture.js';

/**
 * The environment a replayed agent sees: exactly the variables the recording says it read (src/recorder/env-capture.ts)
 * — values as recorded, credentials as placeholders (so SDK constructors that insist on a key still succeed; a replay
 * never sends it anywhere), variables read but unset left unset — and nothing from the replaying host. On top of that:
 * RETRACE_ENV_ALLOW names (comma separated, `PREFIX*` allowed) are taken from the host, RETRACE_ENV_DENY names are
 * removed, and the caller's explicit `env` wins. Names that control the Node process never come from a trace.
 */

export interface ReplayEnvOptions {
  /** the replaying host's environment, where RETRACE_ENV_ALLOW names are taken from (default process.env) */
  host?: NodeJS.ProcessEnv;
  /** names to take from the host (default $RETRACE_ENV_ALLOW) */
  allow?: string;
  /** names never given to the agent (default $RETRACE_ENV_DENY) */
  deny?: string;
  /** set by the caller (ReplayOptions.env): applied last */
  explicit?: Record<string, string>;
}

export interface ReplayEnv {
  env: Record<string, string>;
  /** names served as a placeholder because the recording kept only that they were set */
  placeholders: string[];
  /** the trace recorded environment reads (traces from older recorders did not) */
  recorded: boolean;
  /** names the trace carried that configure a process, removed (sorted; the caller warns) */
  dropped: string[];
}

/** What a credential the recording did not keep is replaced with, per provider convention. */
export function placeholderFor(name: string): string {
  const upper = name.toUpperCase();
  if (upper.includes('ANTHROPIC')) return 'sk-ant-retrace-replay-placeholder';
  if (upper.includes('OPENAI')) return 'sk-retrace-replay-placeholder';
  return 'retrace-replay-placeholder';
}

/** For traces recorded before environment reads were: SDKs that require a key still construct. */
const LEGACY_PLACEHOLDERS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'];

export function replayEnvironment(events: readonly StoredEvent[], options: ReplayEnvOptions = {}): ReplayEnv {
  const host = options.host ?? process.env;
  const allowed = nameMatcher(options.allow ?? host.RETRACE_ENV_ALLOW);
  const denied = nameMatcher(options.deny ?? host.RETRACE_ENV_DENY);
  const env: Record<string, string> = {};
  const placeholders = new Set<string>();
  let recorded = false;
  const started = events[0];
  if (started?.type === 'agent_started') {
    for (const [name, value] of Object.entries(started.payload.environment.env ?? {})) env[name] = value;
  }
  for (const e of events) {
    if (e.type !== 'nondeterminism' || e.payload.source !== 'env' || !e.payload.env) continue;
    recorded = true;
    for (const [name, read] of Object.entries(e.payload.env)) {
      if ('value' in read) {
        env[name] = read.value;
        placeholders.delete(name);
      } else if ('redacted' in read) {
        env[name] = placeholderFor(name);
        placeholders.add(name);
      } else {
        // read while unset: unset for the replay too (the reads are in order; the last one is what the agent saw)
        delete env[name];
        placeholders.delete(name);
      }
    }
  }
  if (!recorded) {
    for (const name of LEGACY_PLACEHOLDERS) {
      if (env[name] === undefined) {
        env[name] = placeholderFor(name);
        placeholders.add(name);
      }
    }
  }
  for (const [name, value] of Object.entries(host)) {
    if (value !== undefined && allowed(name)) {
      env[name] = value;
      placeholders.delete(name);
    }
  }
  const dropped: string[] = [];
  for (const name of Object.keys(env)) {
    const control = isProcessControlEnvName(name);
    if (control || denied(name)) {
      delete env[name];
      placeholders.delete(name);
      if (control) dropped.push(name);
    }
  }
  Object.assign(env, options.explicit ?? {});
  return { env, placeholders: [...placeholders], recorded, dropped: dropped.sort() };
}
