import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The fast tier (`npm run test:unit`) for the edit-test loop: everything that runs in-process against the sources —
 * no build (no CLI e2e), no browser, no sandbox replays, no helper servers in child processes (s3rver, writers).
 * `npm test` runs all of it and the rest.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        'test/cli/**',
        'test/docs/**',
        'test/packaging/**',
        'test/corpus/**',
        'test/faithful/**',
        'test/setup/{hermetic,child-env}.test.ts',
        'test/diff/html-browser.test.ts',
        'test/fixtures/agents.test.ts',
        'test/inspect/{api,ui-browser}.test.ts',
        'test/otel/{export,import,roundtrip,ui-receiver,mirror}.test.ts',
        'test/providers/{sdks,vercel-ai}.test.ts',
        'test/secrets/secrets-e2e.test.ts',
        'test/replay/{sandbox,replay,zero-code,replay-from-s3,fast-path}.test.ts',
        'test/recorder/{register,durability,http-capture}.test.ts',
        'test/store/{sqlite-faults,sqlite-gc,s3-archive,s3.contract}.test.ts',
        '**/node_modules/**',
      ],
    },
  }),
);
