import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Environment } from '../events/payloads.js';
import { redactEnvValue } from '../secrets/redact.js';

let version: string | undefined;

/** The version of agent-retrace itself, from its package.json (works from src/ and from dist/src/). */
export function retraceVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'agent-retrace' && pkg.version) return (version = pkg.version);
      } catch {
        // keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return (version = '0.0.0');
}

/** Names that are never recorded even when allow-listed: they hold credentials. */
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|COOKIE|AUTH|PRIVATE)/i;
const ALWAYS = ['NODE_ENV', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL'];

/**
 * The environment variables a zero-code trace keeps (replay re-runs the script with them): NODE_ENV, the provider base
 * URLs, RETRACE_* (except anything named like a secret), and the names listed in RETRACE_ENV_ALLOW (comma separated).
 * Values go through the key-shape redaction as well, and URLs lose any user:password.
 */
export function allowListedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const extra = (env.RETRACE_ENV_ALLOW ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const allowed = ALWAYS.includes(name) || name.startsWith('RETRACE_') || extra.includes(name);
    if (!allowed || SECRET_NAME.test(name)) continue;
    out[name] = redactEnvValue(name, value);
  }
  return out;
}

export function environment(extra: Partial<Environment> = {}): Environment {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    retraceVersion: retraceVersion(),
    hostname: hostname(),
    cwd: process.cwd(),
    ...extra,
  };
}
