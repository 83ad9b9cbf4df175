import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the workspace's packages from their TypeScript sources (their exports' `ctxvault-source`), not dist/
  ssr: { resolve: { conditions: ['ctxvault-source', 'node', 'development|production'] } },
  test: {
    include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // integration and e2e files share one Postgres, Redis and S3 server: they isolate themselves by
    // database, queue prefix and bucket names, but the 2-core machine is happier with few at once.
    maxWorkers: 2,
  },
});
