import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresBackend, Queue, Worker } from 'bullmq';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedDatabases, startEmbeddedDatabases } from './embedded-databases.ts';

describe('startEmbeddedDatabases', () => {
  let dataDir: string;
  let dbs: EmbeddedDatabases | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ctxvault-embedded-'));
  });

  afterEach(async () => {
    await dbs?.close();
    dbs = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the app and queue instances on separate sockets and directories', async () => {
    dbs = await startEmbeddedDatabases(dataDir);
    expect(dbs.appUrl).not.toBe(dbs.queueUrl);
    expect((await stat(join(dataDir, 'app'))).isDirectory()).toBe(true);
    expect((await stat(join(dataDir, 'queue'))).isDirectory()).toBe(true);

    const queueClient = new pg.Client({ connectionString: dbs.queueUrl });
    await queueClient.connect();
    const { rows } = await queueClient.query<{ search_path: string }>('SHOW search_path');
    await queueClient.end();
    expect(rows[0]?.search_path).toBe('public, bullmq');
  });

  it('carries BullMQ jobs on the queue instance while the app instance serves queries', async () => {
    dbs = await startEmbeddedDatabases(dataDir);
    const name = 'embedded-test';
    // Only the queue migrates; the worker starts once the schema is there.
    const queue = new Queue(
      name,
      { connection: { connectionString: dbs.queueUrl, migrate: true } },
      createPostgresBackend,
    );
    await queue.waitUntilReady();

    const results = new Map<number, number>();
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const worker = new Worker(
      name,
      async (job) => Number(job.data.n) * 2,
      // LISTEN/NOTIFY is not routed through pglite-socket: poll often instead of blocking 5 s.
      { connection: { connectionString: dbs.queueUrl }, drainDelay: 0.2, concurrency: 4 },
      createPostgresBackend,
    );
    worker.on('completed', (job, result) => {
      results.set(Number(job.data.n), Number(result));
      if (results.size === 20) allDone();
    });

    const app = new pg.Client({ connectionString: dbs.appUrl });
    await app.connect();
    try {
      await app.query('CREATE TABLE seen (n int NOT NULL)');
      const started = Date.now();
      await queue.addBulk(Array.from({ length: 20 }, (_, n) => ({ name: 'double', data: { n } })));
      for (let n = 0; n < 20; n++) await app.query('INSERT INTO seen (n) VALUES ($1)', [n]);
      await finished;
      expect(Date.now() - started).toBeLessThan(10_000);
      for (let n = 0; n < 20; n++) expect(results.get(n)).toBe(n * 2);
      expect(await queue.getJobCounts('completed')).toEqual({ completed: 20 });
      const { rows } = await app.query<{ count: string }>('SELECT count(*) FROM seen');
      expect(rows[0]?.count).toBe('20');
    } finally {
      await app.end();
      await worker.close();
      await queue.close();
    }
  });

  it('close() twice is safe', async () => {
    dbs = await startEmbeddedDatabases(dataDir);
    await dbs.close();
    await dbs.close();
  });
});
