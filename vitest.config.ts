import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // forks (the default) so tests can fork children, chdir and load native addons (library notes §9)
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: two files at a time keeps subprocess-heavy suites from starving each other
    maxWorkers: 2,
  },
});
