import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { isAmbientName } from './ambient-env.js';

/**
 * What a test and the processes it starts see of the shell's retrace/LLM/AWS settings: nothing. Trivially true when
 * the shell sets none; test/setup/hermetic.test.ts runs this file with all of them set.
 */
it('the test process and a child it spawns see no RETRACE_*/OPENAI_*/ANTHROPIC_*/AWS_* variables', () => {
  expect(Object.keys(process.env).filter(isAmbientName)).toEqual([]);
  const childNames = JSON.parse(
    execFileSync(process.execPath, ['-e', 'console.log(JSON.stringify(Object.keys(process.env)))'], {
      encoding: 'utf8',
    }),
  ) as string[];
  expect(childNames.filter(isAmbientName)).toEqual([]);
});
