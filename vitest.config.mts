import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Temporal dev server + one embedded PostgreSQL per run (or TEMPORAL_ADDRESS / TEST_DATABASE_URL).
    globalSetup: ['test/global-setup.ts'],
    // Integration and workflow tests start workers and move real data.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Native modules (better-sqlite3, the Temporal core bridge) want real processes, not threads.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
