import type { ApiKeys } from '@ctxvault/core';
// A conditional read decided on the row: a 304 opens no body, so it costs no S3 GET.
import { createMetrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import type { BlobStore } from '@ctxvault/storage';
import { expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../test/helpers/core-services.ts';
import { createApp } from './app.ts';
import type { SecurityDeps } from './env.ts';

/** auth.mode "none": these tests are about other things (the auth suites test the rest) */
const NO_AUTH: SecurityDeps = {
  mode: 'none',
  keys: {} as ApiKeys,
  resourceUrl: '',
  allowedHosts: [],
  allowedOrigins: [],
  metricsToken: '',
};

const parts = useCoreParts();

it('answers If-None-Match with 304 without any S3 GET, and 200 with the body otherwise', async () => {
  let gets = 0;
  const counting: BlobStore = blobStoreWith(parts.blobs, {
    get: (key, range) => {
      gets++;
      return parts.blobs.get(key, range);
    },
  });
  const service = parts.service(counting);
  const logger = { info() {}, warn() {}, error() {}, debug() {} };
  const app = createApp({
    service,
    logger,
    maxBodyBytes: 1024 * 1024,
    bodyTimeoutMs: 60_000,
    maxContextBytes: 1024 * 1024,
    readiness: { database: async () => {}, queue: async () => {}, blob_store: async () => {} },
    metrics: createMetrics(),
    maxBatchMessages: 16,
    maxItemBytes: 1024 * 1024,
    maxDecompressionRatio: 100,
    quotas: { requestsPerSecond: 0, maxStagedBytes: 0 },
    security: NO_AUTH,
    admin: { token: 'unused', jobs: { queues: () => [] } as unknown as QueueAdmin },
  });
  const content = Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `item ${i} ${'x'.repeat(200)}` }));
  const created = await app.request('/api/v1/contexts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: 'etag', content }),
  });
  expect(created.status).toBe(202);
  const { id } = (await created.json()) as { id: string };
  expect(await parts.uploader().store(id, 1, () => {})).toBe('stored');

  for (const tag of ['"1"', 'W/"1"', '"7", "1"', '*']) {
    const res = await app.request(`/api/v1/contexts/${id}`, { headers: { 'if-none-match': tag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe('"1"');
  }
  expect(gets).toBe(0);

  const full = await app.request(`/api/v1/contexts/${id}`, { headers: { 'if-none-match': '"2"' } });
  expect(full.status).toBe(200);
  expect(((await full.json()) as { content: unknown[] }).content).toHaveLength(20);
  expect(gets).toBeGreaterThan(0);
});
