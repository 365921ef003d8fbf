/**
 * Tests are hermetic: whatever the developer's shell exports for retrace itself, the LLM SDKs or AWS must not reach
 * the code under test or the processes the tests start (a RETRACE_TENANT would move every recorded trace to another
 * tenant, an OPENAI_BASE_URL would change which hosts count as LLM endpoints). Each test sets what it needs.
 * Kept: KURRENTDB_URL, how a developer opts in to the live KurrentDB contract (test/store/kurrentdb.contract.test.ts),
 * and RETRACE_CHROMIUM, where the browser test finds Chromium (test/diff/html-browser.test.ts): both configure the
 * tests, not the code under test.
 */
export const AMBIENT_PREFIXES = ['RETRACE_', 'OPENAI_', 'ANTHROPIC_', 'AWS_'] as const;

/** Kept under those prefixes: test configuration, and a switch that only silences the AWS SDK's Node-version notice. */
const KEEP = new Set(['RETRACE_CHROMIUM', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);

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
