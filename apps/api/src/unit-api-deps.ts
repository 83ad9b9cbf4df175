// The API's dependencies for in-process tests (app.request, no server): auth off, small limits,
// every dependency ready. Tests override what they are about.
import type { ApiKeys } from '@ctxvault/core';
import { createMetrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import type { ApiDeps } from './env.ts';

export function unitApiDeps(overrides: Partial<ApiDeps> & Pick<ApiDeps, 'service'>): ApiDeps {
  return {
    logger: { info() {}, warn() {}, error() {}, debug() {} },
    maxBodyBytes: 1024,
    maxContextBytes: 4096,
    bodyTimeoutMs: 60_000,
    readiness: { database: async () => {}, queue: async () => {}, blob_store: async () => {} },
    metrics: createMetrics(),
    maxBatchMessages: 16,
    maxItemBytes: 1024 * 1024,
    maxDecompressionRatio: 100,
    quotas: { requestsPerSecond: 0, maxStagedBytes: 0 },
    // auth.mode "none": these tests are about other things (the auth suites test the rest)
    security: {
      mode: 'none',
      keys: {} as ApiKeys,
      resourceUrl: '',
      allowedHosts: [],
      allowedOrigins: [],
      metricsToken: '',
    },
    admin: { token: '', jobs: { queues: () => [] } as unknown as QueueAdmin },
    ...overrides,
  };
}
