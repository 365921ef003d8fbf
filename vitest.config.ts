import { defineConfig } from 'vitest/config';
import { scrubAmbientEnv } from './test/setup/ambient-env.js';

// hermetic tests (test/setup/ambient-env.ts): scrubbed here for the vitest process and the workers it forks, and
// again in each worker by the setup file
scrubAmbientEnv();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/hermetic.ts'],
    globalSetup: ['test/setup/report-page.ts'],
    // forks (the default) so tests can fork children, chdir and load native addons (library notes §9)
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: two files at a time keeps subprocess-heavy suites from starving each other
    maxWorkers: 2,
  },
});
