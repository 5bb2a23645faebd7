import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Most tests run the CLI in-process (test/support/cli.ts); the few that run the built binary get a
    // fresh build: this builds first when dist/ is older than the sources.
    globalSetup: ['test/support/build-once.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real processes and servers: two cores here, so keep the pool small.
    maxWorkers: 2,
  },
});
