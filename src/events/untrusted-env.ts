import type { StoredEvent } from './envelope.js';
import { isProcessControlEnvName } from './env-names.js';

/**
 * An imported trace (a golden file, an export from someone else's store) may carry any variable in
 * agent_started.payload.environment.env. Names that configure a process are dropped at the door, so they are never
 * stored, shown as if they had been recorded, or handed to anything later.
 */
export function withoutProcessControlEnv(event: StoredEvent): { event: StoredEvent; dropped: string[] } {
  if (event.type !== 'agent_started') return { event, dropped: [] };
  const env = event.payload.environment.env;
  if (!env) return { event, dropped: [] };
  const dropped = Object.keys(env).filter(isProcessControlEnvName);
  if (dropped.length === 0) return { event, dropped };
  const kept = Object.fromEntries(Object.entries(env).filter(([name]) => !isProcessControlEnvName(name)));
  const environment = { ...event.payload.environment, env: kept };
  return { event: { ...event, payload: { ...event.payload, environment } }, dropped };
}
