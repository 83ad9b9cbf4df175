// A queue backend that cannot be used comes out of JobProducer and QueueAdmin as QueueUnavailableError,
// classified by what the connection reported, on real servers: Redis going away (a TCP proxy that
// stops) and the PostgreSQL backend on a port nobody listens on.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { failureOf } from '../../../test/helpers/failure.ts';
import { freePort } from '../../../test/helpers/processes.ts';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import type { QueueConnectionOptions } from './connection.ts';
import { JobStateError } from './job-state-error.ts';
import { UPLOAD_QUEUE } from './names.ts';
import { JobProducer } from './producer.ts';
import { QueueAdmin } from './queue-admin.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';

const producers: JobProducer[] = [];
let proxy: TcpProxy | undefined;

afterAll(async () => {
  for (const made of producers) await made.close();
  await proxy?.close();
});

function producer(connection: Partial<QueueConnectionOptions>): JobProducer {
  const made = new JobProducer(
    {
      backend: 'redis',
      redis: { url: inject('redisUrl'), cluster: false },
      databaseUrl: '',
      prefix: 'unavailable-test',
      ...connection,
    },
    { attempts: 1, backoffMs: 10 },
  );
  producers.push(made);
  return made;
}

describe('QueueUnavailableError', () => {
  it('Redis gone: connection_refused, from the producer and from the admin', async () => {
    const redis = new URL(inject('redisUrl'));
    proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    const jobs = producer({ redis: { url: `redis://127.0.0.1:${proxy.port}`, cluster: false } });
    await jobs.check();
    await proxy.stop();
    const err = await failureOf(() => jobs.check());
    expect(err).toBeInstanceOf(QueueUnavailableError);
    expect((err as QueueUnavailableError).reason).toBe('connection_refused');
    expect((err as QueueUnavailableError).cause).toBeInstanceOf(Error);
    const admin = new QueueAdmin(
      (name) => jobs.queue(name),
      [UPLOAD_QUEUE],
      (work) => jobs.guard(work),
    );
    expect(await failureOf(() => admin.counts())).toMatchObject({ reason: 'connection_refused' });
  });

  it('a Redis Cluster node that serves no slot (as while its master fails over): connection_failure, not a bare error', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ctxvault-clusterdown-'));
    const node = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes'],
      { cwd: dir, stdio: 'ignore' },
    );
    try {
      // a plain client: "ready" all along, while every command answers CLUSTERDOWN
      const jobs = producer({ redis: { url: `redis://127.0.0.1:${port}`, cluster: false } });
      // connection_refused until the node listens
      await expect
        .poll(async () => ((await failureOf(() => jobs.check())) as QueueUnavailableError).reason, { timeout: 10_000 })
        .toBe('connection_failure');
      const err = await failureOf(() => jobs.enqueueDelete({ contextId: 'c', tenantId: 't' }));
      expect(err).toBeInstanceOf(QueueUnavailableError);
      expect(err).toMatchObject({ reason: 'connection_failure', message: expect.stringContaining('CLUSTERDOWN') });
    } finally {
      node.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the PostgreSQL backend on a port nobody listens on: connection_refused', async () => {
    const jobs = producer({
      backend: 'postgres',
      databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/ctxvault`,
    });
    const err = await failureOf(() => jobs.check());
    expect(err).toBeInstanceOf(QueueUnavailableError);
    expect((err as QueueUnavailableError).reason).toBe('connection_refused');
  });

  it('a working backend answers, and failures of other kinds pass through unchanged', async () => {
    const jobs = producer({ prefix: `unavailable-${Date.now()}` });
    await jobs.check();
    const refusal = new JobStateError('job x is active', 'active');
    expect(await failureOf(() => jobs.guard(() => Promise.reject(refusal)))).toBe(refusal);
    const bug = new TypeError('not a queue failure');
    expect(await failureOf(() => jobs.guard(() => Promise.reject(bug)))).toBe(bug);
  });
});
