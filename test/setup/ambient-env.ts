/**
 * Tests are hermetic: whatever the developer's shell exports for retrace itself, the LLM SDKs or AWS must not reach
 * the code under test or the processes the tests start (a RETRACE_TENANT would move every recorded trace to another
 * tenant, an OPENAI_BASE_URL would change which hosts count as LLM endpoints). Each test sets what it needs.
 * KURRENTDB_URL stays: it is how a developer opts in to the live KurrentDB contract (test/store/kurrentdb.contract.test.ts).
 */
export const AMBIENT_PREFIXES = ['RETRACE_', 'OPENAI_', 'ANTHROPIC_', 'AWS_'] as const;

/** Kept under those prefixes: a switch that only silences the AWS SDK's Node-version notice. */
const KEEP = new Set(['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);

export function isAmbientName(name: string): boolean {
  const upper = name.toUpperCase();
  return !KEEP.has(upper) && AMBIENT_PREFIXES.some((p) => upper.startsWith(p));
}

/** Deletes the ambient variables from `env` in place; returns their names (for the proof test). */
export function scrubAmbientEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const removed = Object.keys(env).filter(isAmbientName);
  for (const name of removed) delete env[name];
  return removed;
}
