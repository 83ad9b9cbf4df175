import type { BlobStore } from '@ctxvault/storage';
import { expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../test/helpers/core-services.ts';
import { createApp } from './app.ts';
import { unitApiDeps } from './unit-api-deps.ts';

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
  const app = createApp(unitApiDeps({ service, logger, maxBodyBytes: 1024 * 1024, maxContextBytes: 1024 * 1024 }));
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
