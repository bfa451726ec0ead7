import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'e2e/**/*.e2e.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Most files wait on PostgreSQL, Redis or child processes rather than the CPU: more workers than cores.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file isolates itself (own database, own Redis key prefix), so files run in parallel.
    fileParallelism: true,
  },
});
