import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { AMBIENT_PREFIXES, isAmbientName } from './ambient-env.js';

/**
 * What a test and the processes it starts see of the shell's retrace/LLM/AWS settings: nothing. Trivially true when
 * the shell sets none; test/setup/hermetic.test.ts runs this file with all of them set.
 */
it('the test process and a child it spawns see no RETRACE_*/OPENAI_*/ANTHROPIC_*/AWS_* variables', () => {
  expect(Object.keys(process.env).filter(isAmbientName)).toEqual([]);
  const seen = execFileSync(
    process.execPath,
    [
      '-e',
      `console.log(JSON.stringify(Object.keys(process.env).filter((k) => ${JSON.stringify(AMBIENT_PREFIXES)}.some((p) => k.startsWith(p)) && k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED')))`,
    ],
    { encoding: 'utf8' },
  );
  expect(JSON.parse(seen)).toEqual([]);
});
