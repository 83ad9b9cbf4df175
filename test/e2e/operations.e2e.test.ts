// Operating a deployment: the admin API over failed uploads, /metrics after real traffic, request
// ids from the API into the worker's logs, and S3 calls in debug logs without secrets. Uploads fail
// on purpose at first: the bucket does not exist until the test creates it.

import { contextSchema, statusViewSchema } from '@ctxvault/core';
import { type AdminJobView, adminJobViewSchema, uploadJobId } from '@ctxvault/queue';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { freePort } from '../helpers/processes.ts';
import { sample } from '../helpers/prometheus.ts';
import { useSuite } from '../helpers/suite.ts';

const TOKEN = 'ops-token-4f1c9a';
const SECRET = 'secret-key-9d27e1b0';
const admin = { authorization: `Bearer ${TOKEN}` };
let workerMetrics: string;
const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const suite = useSuite({
  createBucket: false,
  env: async () => {
    const workerPort = await freePort();
    workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
    return {
      MCP_ADMIN_TOKEN: TOKEN,
      MCP_QUEUE_ATTEMPTS: '1',
      MCP_LOGGING_LEVEL: 'debug',
      MCP_METRICS_WORKER_PORT: String(workerPort),
      AWS_SECRET_ACCESS_KEY: SECRET,
    };
  },
});

beforeAll(async () => {
  for (const name of ['a', 'b', 'c'] as const) {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { 'x-request-id': `req-ops-${name}` },
      json: { agent_id: 'ops', content: itemsOfSize(300 * 1024) },
    });
    expect(created.status).toBe(202);
    ids[name] = created.json.id;
  }
  for (const id of Object.values(ids)) expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('failed');
}, 120_000);

const uploadJob = (id: string) => uploadJobId(id, 1);
const jobPath = (id: string) => `/api/v1/admin/queues/context-upload/jobs/${uploadJob(id)}`;

describe('admin API', () => {
  it('refuses a missing or wrong token, asking browsers for Basic', async () => {
    const none = await api(suite.app.url, '/api/v1/admin/queues');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="ctxvault admin"/);
    expect(none.json.error.code).toBe('unauthorized');
    expect(
      (await api(suite.app.url, '/api/v1/admin/queues', { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    expect((await api(suite.app.url, '/api/v1/admin/queues', { headers: { authorization: basic } })).status).toBe(200);
  });

  it('counts jobs per state per queue and lists the failed ones with their contexts and reasons', async () => {
    const counts = await api(suite.app.url, '/api/v1/admin/queues', { headers: admin });
    expect(counts.json.queues['context-upload']).toMatchObject({ failed: 3, waiting: 0, active: 0 });
    expect(counts.json.queues['context-delete']).toMatchObject({ failed: 0 });

    const failed = await api(suite.app.url, '/api/v1/admin/queues/context-upload/jobs?state=failed', {
      headers: admin,
    });
    expect(failed.status).toBe(200);
    expect(failed.json.jobs.map((job: AdminJobView) => job.context_id).sort()).toEqual(Object.values(ids).sort());
    for (const job of failed.json.jobs) adminJobViewSchema.parse(job); // as the OpenAPI document describes it
    const a = failed.json.jobs.find((job: AdminJobView) => job.context_id === ids.a);
    expect(a).toMatchObject({
      id: uploadJob(ids.a),
      state: 'failed',
      version: 1,
      request_id: 'req-ops-a',
      attempts: 1,
    });
    expect(a.failed_reason).toContain(`bucket "${suite.bucket.name}" does not exist`);

    const bad = await api(suite.app.url, '/api/v1/admin/queues/nope/jobs?state=sideways', { headers: admin });
    expect(bad.status).toBe(400);
  });

  it('removes one job, and refuses to retry one that did not fail', async () => {
    const removed = await api(suite.app.url, jobPath(ids.c), { method: 'DELETE', headers: admin });
    expect(removed.status).toBe(204);
    expect((await api(suite.app.url, jobPath(ids.c), { headers: admin })).status).toBe(404);
    expect((await api(suite.app.url, jobPath(ids.c), { method: 'DELETE', headers: admin })).status).toBe(404);
  });

  it('retries one failed upload, then all the others, and the contexts become stored', async () => {
    await suite.bucket.create();
    const retried = await api(suite.app.url, `${jobPath(ids.a)}/retry`, { method: 'POST', headers: admin });
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ id: uploadJob(ids.a), context_id: ids.a });
    await expect
      .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${ids.a}/status`)).json.status, { timeout: 20_000 })
      .toBe('stored');
    await expect
      .poll(async () => (await api(suite.app.url, jobPath(ids.a), { headers: admin })).json.state)
      .toBe('completed');
    const again = await api(suite.app.url, `${jobPath(ids.a)}/retry`, { method: 'POST', headers: admin });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('job_state_conflict');

    const all = await api(suite.app.url, '/api/v1/admin/queues/context-upload/retry-failed', {
      method: 'POST',
      headers: admin,
    });
    expect(all.json).toEqual({ queue: 'context-upload', retried: 1 });
    await expect
      .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${ids.b}/status`)).json.status, { timeout: 20_000 })
      .toBe('stored');
    statusViewSchema.parse((await api(suite.app.url, `/api/v1/contexts/${ids.b}/status`)).json);
    // read it back, so bytes are downloaded from S3
    const read = await api(suite.app.url, `/api/v1/contexts/${ids.b}`);
    expect(read.status).toBe(200);
    contextSchema.parse(read.json);
    // again: now from the body cache
    expect((await api(suite.app.url, `/api/v1/contexts/${ids.b}`)).json).toEqual(read.json);
  });
});

describe('metrics', () => {
  it('the API exports request durations, queue depth, staging bytes, downloads, S3 errors and cache counters', async () => {
    const res = await fetch(`${suite.app.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(
      sample(text, 'ctxvault_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/contexts',
        status: '202',
      }),
    ).toBe(3);
    expect(
      sample(text, 'ctxvault_http_request_duration_seconds_count', {
        route: '/api/v1/contexts/:id/status',
        status: '200',
      }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'ctxvault_queue_jobs', { queue: 'context-upload', state: 'completed' })).toBe(2);
    expect(sample(text, 'ctxvault_queue_jobs', { queue: 'context-upload', state: 'failed' })).toBe(0);
    // c's job was removed, so its staged body waits for the reconciler
    expect(sample(text, 'ctxvault_staging_bytes')).toBeGreaterThan(300 * 1024);
    expect(sample(text, 'ctxvault_blob_downloaded_bytes_total', { store: 's3' })).toBeGreaterThan(300 * 1024);
    // b was read twice: a miss that filled the cache, then a hit
    expect(sample(text, 'ctxvault_cache_hits_total', { tier: 'memory' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ctxvault_cache_misses_total')).toBeGreaterThanOrEqual(1);
    const cache = await api(suite.app.url, '/api/v1/cache');
    expect(sample(text, 'ctxvault_cache_misses_total')).toBe(cache.json.misses);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('the worker exports jobs completed, failed and their durations, bytes uploaded and S3 errors by code', async () => {
    const text = await (await fetch(workerMetrics)).text();
    expect(sample(text, 'ctxvault_jobs_failed_total', { queue: 'context-upload' })).toBe(3);
    expect(sample(text, 'ctxvault_jobs_completed_total', { queue: 'context-upload' })).toBe(2);
    expect(sample(text, 'ctxvault_job_duration_seconds_count', { queue: 'context-upload', outcome: 'failed' })).toBe(3);
    expect(sample(text, 'ctxvault_job_duration_seconds_count', { queue: 'context-upload', outcome: 'completed' })).toBe(
      2,
    );
    expect(sample(text, 'ctxvault_blob_uploaded_bytes_total', { store: 's3' })).toBeGreaterThan(2 * 300 * 1024);
    expect(sample(text, 'ctxvault_s3_errors_total', { code: 'NoSuchBucket' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'ctxvault_job_duration_seconds_count', { queue: 'context-lifecycle' })).toBeGreaterThanOrEqual(
      1,
    );
  });
});

describe('logs', () => {
  const lines = () =>
    suite.app.worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));

  it('carry the request id of the API request into the worker lines of the job it caused', () => {
    const ofA = lines().filter((line) => line.request_id === 'req-ops-a');
    expect(ofA.map((line) => line.msg)).toEqual(expect.arrayContaining(['upload failed', 'upload finished']));
    expect(ofA.every((line) => line.job_id === uploadJob(ids.a) && line.context_id === ids.a)).toBe(true);
    expect(suite.app.api.output()).toContain('"request_id":"req-ops-a"');
  });

  it('at debug, show each S3 call with operation, key, bytes, duration and attempts, and never a secret', () => {
    const puts = lines().filter((line) => line.s3?.operation === 'PutObject' && line.s3.error === undefined);
    expect(puts.length).toBeGreaterThanOrEqual(2);
    expect(puts[0].s3).toMatchObject({ bucket: suite.bucket.name, attempts: 1, status: 200 });
    expect(puts[0].s3.key).toMatch(/^contexts\/[0-9a-f]{2}\/.+\/1\.[0-9a-f-]{36}\.json$/);
    expect(puts[0].s3.bytes).toBeGreaterThan(300 * 1024);
    expect(typeof puts[0].s3.ms).toBe('number');
    const failed = lines().find((line) => line.s3?.error === 'NoSuchBucket' && line.queue === 'context-upload');
    expect(failed?.request_id).toMatch(/^req-ops-/);
    // each line carries its own call, not one of the job's earlier lines
    const ofJob = lines().filter((line) => line.job_id === failed.job_id);
    expect(ofJob.find((line) => line.msg === 'upload failed')?.s3).toBeUndefined();
    for (const output of [suite.app.worker.output(), suite.app.api.output()]) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(TOKEN);
    }
  });
});
