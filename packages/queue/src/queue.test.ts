import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestDatabase } from '../../../test/helpers/database.ts';
import { createFileDatabase } from '../../../test/helpers/file-database.ts';
import type { QueueConnectionOptions } from './connection.ts';
import { createConsumer } from './consumer.ts';
import { REPLICA_QUEUE, UPLOAD_QUEUE } from './names.ts';
import { type ReplicaJob, replicaJobId, type UploadJob } from './payloads.ts';
import { JobProducer } from './producer.ts';
import { QueueAdmin } from './queue-admin.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createFileDatabase();
});
afterAll(async () => {
  await db?.drop();
});

for (const backend of ['redis', 'postgres'] as const) {
  describe(`queue on ${backend}`, () => {
    const connection = (): QueueConnectionOptions => ({
      backend,
      redis: { url: inject('redisUrl'), cluster: false },
      databaseUrl: db.url,
      prefix: `test-${randomBytes(4).toString('hex')}`,
    });

    it('runs a job once even when it is enqueued twice, and shows its progress', async () => {
      const conn = connection();
      const producer = new JobProducer(conn, { attempts: 2, backoffMs: 10 });
      const seen: UploadJob[] = [];
      const consumer = createConsumer<UploadJob, string>(
        UPLOAD_QUEUE,
        async (job) => {
          seen.push(job.data);
          await job.updateProgress({ bytes: 5, total: 10, percent: 50 });
          return 'ok';
        },
        conn,
        { concurrency: 2, drainDelay: 0.2 },
      );
      try {
        const payload = { contextId: randomUUID(), version: 1, tenantId: 'default' };
        const id1 = await producer.enqueueUpload(payload);
        const id2 = await producer.enqueueUpload(payload);
        expect(id1).toBe(id2);
        await expect
          .poll(async () => (await producer.getJob(id1, 'default'))?.state, { timeout: 15_000 })
          .toBe('completed');
        const view = await producer.getJob(id1, 'default');
        expect(view).toMatchObject({
          id: id1,
          state: 'completed',
          progress: { bytes: 5, total: 10, percent: 50 },
          attempts: 1,
        });
        expect(seen).toHaveLength(1);
      } finally {
        await producer
          .queue(UPLOAD_QUEUE)
          .obliterate({ force: true })
          .catch(() => {});
        await consumer.close();
        await consumer.close();
        await producer.close();
        await producer.close();
      }
    });

    it('retries with backoff and reports the final failure', async () => {
      const conn = connection();
      const producer = new JobProducer(conn, { attempts: 3, backoffMs: 20 });
      let calls = 0;
      const consumer = createConsumer<UploadJob, void>(
        UPLOAD_QUEUE,
        async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        },
        conn,
        { concurrency: 1, drainDelay: 0.2 },
      );
      try {
        const id = await producer.enqueueUpload({ contextId: randomUUID(), version: 2, tenantId: 'default' });
        await expect
          .poll(async () => (await producer.getJob(id, 'default'))?.state, { timeout: 20_000 })
          .toBe('failed');
        expect(await producer.getJob(id, 'default')).toMatchObject({ attempts: 3, failed_reason: 'boom 3' });
        expect(calls).toBe(3);

        // a retry by hand (the dashboard calls job.retry; then the admin API's retry-all) gets all attempts again
        const queue = producer.queue(UPLOAD_QUEUE);
        await (await queue.getJob(id))!.retry('failed');
        expect(await producer.getJob(id, 'default')).toMatchObject({ attempts: 0 });
        await expect.poll(async () => calls, { timeout: 20_000 }).toBe(6);
        await expect
          .poll(async () => (await producer.getJob(id, 'default'))?.state, { timeout: 20_000 })
          .toBe('failed');
        expect(await producer.getJob(id, 'default')).toMatchObject({
          attempts: 3,
          max_attempts: 3,
          failed_reason: 'boom 6',
        });
        expect(await new QueueAdmin(() => queue).retryFailed(UPLOAD_QUEUE)).toBe(1);
        await expect.poll(async () => calls, { timeout: 20_000 }).toBe(9);
        await expect
          .poll(async () => (await producer.getJob(id, 'default'))?.state, { timeout: 20_000 })
          .toBe('failed');
        expect(await producer.getJob(id, 'default')).toMatchObject({ attempts: 3, failed_reason: 'boom 9' });
      } finally {
        await producer
          .queue(UPLOAD_QUEUE)
          .obliterate({ force: true })
          .catch(() => {});
        await consumer.close();
        await producer.close();
      }
    });
  });
}

describe('replication jobs', () => {
  it('fold the events of one key while it waits, and leave room for the next event once done', async () => {
    const conn: QueueConnectionOptions = {
      backend: 'redis',
      redis: { url: inject('redisUrl'), cluster: false },
      databaseUrl: db.url,
      prefix: `test-${randomBytes(4).toString('hex')}`,
    };
    const producer = new JobProducer(conn, { attempts: 2, backoffMs: 10 });
    const key = 'contexts/ab/0193/v1.json';
    try {
      const id = await producer.enqueueReplication({ key });
      expect(id).toBe(replicaJobId(key));
      expect(id).not.toMatch(/:|^\d+$/);
      expect(await producer.enqueueReplication({ key })).toBe(id);
      expect(await producer.queue(REPLICA_QUEUE).getJobCounts('waiting')).toEqual({ waiting: 1 });
      // replication jobs are no tenant's: the API's job view (getJob) never shows them
      expect((await producer.queue(REPLICA_QUEUE).getJob(id))?.id).toBe(id);

      const seen: string[] = [];
      const consumer = createConsumer<ReplicaJob, void>(
        REPLICA_QUEUE,
        async (job) => {
          seen.push(job.data.key);
        },
        conn,
        { concurrency: 1, drainDelay: 0.2 },
      );
      try {
        await expect.poll(() => seen.length, { timeout: 15_000 }).toBe(1);
        // removed once done: the next change of the key gets a job of its own
        await expect
          .poll(async () => (await producer.queue(REPLICA_QUEUE).getJob(id)) ?? null, { timeout: 15_000 })
          .toBeNull();
        await producer.enqueueReplication({ key });
        await expect.poll(() => seen.length, { timeout: 15_000 }).toBe(2);
      } finally {
        await consumer.close();
      }
    } finally {
      await producer
        .queue(REPLICA_QUEUE)
        .obliterate({ force: true })
        .catch(() => {});
      await producer.close();
    }
  });
});
