// The worker's failure path, the PostgreSQL queue backend and `ctxvault migrate`, on real processes.
import { describe, expect, inject, it } from 'vitest';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startDeployment } from '../helpers/deployment.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite({ deploy: false });

describe('upload failures', () => {
  it('retries with backoff, then marks the context failed with the reason, still readable from staging', async () => {
    const app = await startDeployment(
      { ...suite.services, bucket: `${suite.bucket.name}-missing` },
      { MCP_QUEUE_ATTEMPTS: '3', MCP_QUEUE_BACKOFF: '100ms' },
    );
    try {
      const content = itemsOfSize(400 * 1024);
      const created = await api(app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'doomed', content } });
      expect(created.status).toBe(202);
      const last = (await waitUntilSettled(app.url, created.json.id, 60_000)).at(-1);
      expect(last.status).toBe('failed');
      expect(last.last_error).toMatch(/bucket/i);
      await expect
        .poll(async () => (await api(app.url, `/api/v1/jobs/${created.json.job_id}`)).json)
        .toMatchObject({
          state: 'failed',
          attempts: 3,
          failed_reason: expect.stringMatching(/bucket/i),
        });
      const read = await api(app.url, `/api/v1/contexts/${created.json.id}`);
      expect(read.json.status).toBe('failed');
      expect(read.json.content).toEqual(content);
    } finally {
      await app.stop();
    }
  }, 90_000);
});

describe('queue.backend: postgres', () => {
  it('runs the whole write path with Postgres and S3 alone (no Redis)', async () => {
    const app = await startDeployment(suite.services, {
      MCP_QUEUE_BACKEND: 'postgres',
      MCP_REDIS_URL: 'redis://127.0.0.1:1',
    });
    try {
      const content = itemsOfSize(1024 * 1024);
      const created = await api(app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'pg-queue', content },
      });
      expect(created.status).toBe(202);
      const last = (await waitUntilSettled(app.url, created.json.id, 60_000)).at(-1);
      expect(last).toMatchObject({ status: 'stored', job: { state: expect.stringMatching(/active|completed/) } });
      expect((await api(app.url, `/api/v1/contexts/${created.json.id}`)).json.content).toEqual(content);
    } finally {
      await app.stop();
    }
  }, 90_000);
});

describe('ctxvault migrate', () => {
  it('migrates an empty database once, then reports it up to date', async () => {
    const empty = await createTestDatabase(inject('databaseUrl'), { migrate: false });
    try {
      const first = await spawnCtxvault('migrate', { MCP_DATABASE_URL: empty.url });
      expect(first.child.exitCode).toBe(0);
      expect(first.output()).toContain('applied: Migration20261123000000_initial');
      const second = await spawnCtxvault('migrate', { MCP_DATABASE_URL: empty.url });
      expect(second.output()).toContain('database is up to date');
    } finally {
      await empty.drop();
    }
  });
});
