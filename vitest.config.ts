import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './test/setup/slowest-first.ts';

const SOURCE_CONDITIONS = ['ctxvault-source', 'node', 'development|production'];

export default defineConfig({
  // the workspace's packages from their TypeScript sources (their exports' `ctxvault-source`), not
  // dist/: in the test files (ssr) and in the global setup, which runs in vitest's own environment
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  environments: { __vitest__: { resolve: { conditions: SOURCE_CONDITIONS } } },
  test: {
    include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // integration and e2e files share one Postgres, Redis and S3 server: they isolate themselves by
    // database, queue prefix and bucket names, but the 2-core machine is happier with few at once.
    maxWorkers: 2,
    // the longest files first, so that both workers end together (test/setup/slowest-first.ts)
    sequence: { sequencer: SlowestFirst },
  },
});
