// S3 behind the chaos proxy, one fault at a time aimed at chosen requests: a read is retried within
// storage.s3.max_attempts or fails truthfully (a 503 naming the blob store, or an aborted answer
// that the SDK and the CLI report as an error), and no multipart upload stays open once every job
// has ended. No lifecycle pass runs here (it would abort every upload moto dates 2010 and hide them).
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { CtxvaultClient, IncompleteResponseError } from '@ctxvault/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, type ChaosRequest, startChaosProxy } from '../helpers/chaos-proxy.ts';
import { api, itemsOfSize, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { runCtxvault, spawnCtxvault } from '../helpers/processes.ts';
import { rawGet } from '../helpers/raw-http.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const ADMIN = 'flaky-s3-admin';
// the second 5 MiB part of an object, also when asked for again from where an answer broke off
const secondPart = (r: ChaosRequest) => String(r.headers.range ?? '').endsWith(`-${10 * MiB - 1}`);
let chaos: ChaosProxy;
afterAll(() => chaos?.close());
afterEach(async (ctx) => {
  chaos.clearRules();
  if (process.env.DEBUG_FLAKY && ctx.task.result?.state === 'fail') {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `/tmp/flaky-${ctx.task.name.slice(0, 20).replace(/\W/g, '_')}.log`,
      `API\n${suite.app.api.output()}\nWORKER\n${suite.app.worker.output()}\nCHAOS\n${chaos.stats.log.join('\n')}`,
    );
  }
});

const suite = useSuite({
  env: {
    MCP_QUEUE_LOCK_DURATION: '5s',
    MCP_QUEUE_ATTEMPTS: '12',
    MCP_QUEUE_BACKOFF: '500ms',
    MCP_STORAGE_S3_MAX_ATTEMPTS: '3',
    MCP_STORAGE_S3_REQUEST_TIMEOUT: '5s',
    MCP_STORAGE_S3_CONCURRENCY: '1',
    // every read goes to S3
    MCP_CACHE_MAX_BYTES: '0',
    // the lifecycle pass (it runs when a worker starts) must not abort the uploads left open: moto
    // dates every upload 2010, so only a grace longer than that keeps them
    MCP_LIFECYCLE_INTERVAL: '24h',
    MCP_LIFECYCLE_MULTIPART_GRACE: '10000d',
    MCP_ADMIN_TOKEN: ADMIN,
    // the worker's multipart uploads are under test: large creates are staged for it (the API's own
    // are in test/e2e/direct-writes.e2e.test.ts)
    MCP_STORAGE_S3_DIRECT_WRITES: 'false',
  },
  services: async (direct) => {
    chaos = await startChaosProxy(direct.s3Endpoint, { seed: 11 });
    return { ...direct, s3Endpoint: chaos.url };
  },
});

/** GETs of the object of context `id`, optionally only those asking for a range starting at `range`. */
const objectGet =
  (id: string, range: (r: ChaosRequest) => boolean = () => true) =>
  (r: ChaosRequest) =>
    r.method === 'GET' && r.path.includes(`/${id}/`) && range(r);
const firstPart = (r: ChaosRequest) => String(r.headers.range ?? '').startsWith('bytes=0-');

async function storedContext(bytes: number): Promise<{ id: string; content: ReturnType<typeof itemsOfSize> }> {
  const content = itemsOfSize(bytes);
  const res = await post({ agent_id: 'flaky', content });
  expect(res.status, res.text).toBe(202);
  const last = (await waitUntilSettled(suite.app.url, res.json.id)).at(-1);
  expect(last.status).toBe('stored');
  return { id: res.json.id, content };
}

async function openUploads(): Promise<number> {
  const out = await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }));
  return out.Uploads?.length ?? 0;
}

/** Until no upload or delete job waits, runs or is delayed for a retry. */
async function untilEveryJobEnded(): Promise<void> {
  await expect
    .poll(
      async () => {
        const res = await api(suite.app.url, '/api/v1/admin/queues', { headers: { authorization: `Bearer ${ADMIN}` } });
        // the lifecycle queue always holds its next scheduled run
        const { 'context-upload': uploads, 'context-delete': deletes } = res.json.queues;
        return [uploads, deletes].reduce((n, q) => n + q.waiting + q.active + q.delayed + q.prioritized, 0);
      },
      { timeout: 90_000, interval: 200 },
    )
    .toBe(0);
}

function noLifecyclePassAbortedUploads(): void {
  const aborted = suite.app.worker
    .output()
    .split('\n')
    .filter((line) => line.includes('lifecycle pass finished'))
    .map((line) => JSON.parse(line).multipart_uploads_aborted);
  expect(aborted.every((n) => n === 0)).toBe(true);
}

/** POSTs a context; a pooled connection the server just closed as idle (EPIPE before any answer) is tried once more. */
async function post(json: unknown) {
  const send = () => api(suite.app.url, '/api/v1/contexts', { method: 'POST', json });
  return send().catch(async (err: unknown) => {
    if (!/EPIPE|ECONNRESET|other side closed/.test(String((err as Error).cause ?? err))) throw err;
    return send();
  });
}

describe('reads under a flaky S3', () => {
  it('a ranged GET part cut off mid-answer is fetched again: the read is complete and identical', async () => {
    const { id, content } = await storedContext(12 * MiB);
    chaos.addRule({ match: objectGet(id, secondPart), fault: 'reset-mid-answer', times: 2 });
    chaos.addRule({ match: objectGet(id, firstPart), fault: 'slow-down', times: 1 });
    const before = { ...chaos.stats.faults };
    const read = await rawGet(`${suite.app.url}/api/v1/contexts/${id}`);
    expect(read.status).toBe(200);
    expect(read.complete).toBe(true);
    expect(sha256(JSON.stringify(JSON.parse(read.body.toString()).content))).toBe(sha256(JSON.stringify(content)));
    expect(chaos.stats.faults['reset-mid-answer'] - before['reset-mid-answer']).toBe(2);
    expect(chaos.stats.faults['slow-down'] - before['slow-down']).toBe(1);
  }, 180_000);

  it('a part that keeps failing aborts the answer: curl sees it cut, the SDK and `ctxvault get` fail, the API logs it', async () => {
    const { id } = await storedContext(12 * MiB);
    chaos.addRule({ match: objectGet(id, secondPart), fault: 'reset-mid-answer' });

    const read = await rawGet(`${suite.app.url}/api/v1/contexts/${id}`, { 'x-request-id': 'cut-read-1' });
    expect(read.status).toBe(200);
    expect(read.complete).toBe(false);
    expect(read.body.length).toBeGreaterThan(0);
    expect(() => JSON.parse(read.body.toString())).toThrow();
    await expect
      .poll(() => suite.app.api.output())
      .toMatch(/"request_id":"cut-read-1"[^\n]*response aborted: reading the body failed midway/);
    expect(suite.app.api.output()).toMatch(/"request_id":"cut-read-1"[^\n]*connection_reset/);

    const sdk = await new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key })
      .get(id)
      .catch((err: unknown) => err);
    expect(sdk).toBeInstanceOf(IncompleteResponseError);

    const cli = await runCtxvault(['get', id], { MCP_CLIENT_URL: suite.app.url, MCP_CLIENT_API_KEY: suite.app.key });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/incomplete_response: the answer to GET \/contexts\/[^ ]+ broke off after \d+ bytes/);
  }, 180_000);

  it('a single-part object reset mid-answer once is resumed; reset every time, a 503 naming the blob store', async () => {
    const { id, content } = await storedContext(1 * MiB);
    chaos.addRule({ match: objectGet(id), fault: 'reset-mid-answer', times: 1 });
    const resumed = await rawGet(`${suite.app.url}/api/v1/contexts/${id}`);
    expect(resumed).toMatchObject({ status: 200, complete: true });
    expect(sha256(JSON.stringify(JSON.parse(resumed.body.toString()).content))).toBe(sha256(JSON.stringify(content)));

    chaos.addRule({ match: objectGet(id), fault: 'reset-mid-answer' });
    // the summary comes from the counts kept per segment: it reads no body, so S3 cannot fail it
    expect((await api(suite.app.url, `/api/v1/contexts/${id}/summary`)).status).toBe(200);
    // a read streams as the object arrives: cut every time, it is either refused or visibly cut off
    for (const path of [`/api/v1/contexts/${id}?last=2`, `/api/v1/contexts/${id}`]) {
      const read = await rawGet(`${suite.app.url}${path}`);
      if (read.status === 200) expect(read.complete, path).toBe(false);
      else {
        expect(read.status, path).toBe(503);
        const error = JSON.parse(read.body.toString()).error;
        expect(error).toMatchObject({ code: 'blob_store_unavailable', details: { cause: 'connection_reset' } });
        expect(error.message).toContain('storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT)');
        expect(error.message).not.toMatch(/database/);
      }
    }

    chaos.clearRules();
    chaos.addRule({ match: objectGet(id), fault: 'slow-down' });
    // a failure before the first byte is an error answer naming its cause, never a database one
    const throttled = await api(suite.app.url, `/api/v1/contexts/${id}?last=2`);
    expect(throttled.status).toBe(503);
    expect(throttled.json.error).toMatchObject({ code: 'blob_store_unavailable', details: { cause: 'throttled' } });
    expect(throttled.json.error.message).toContain('storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT)');
    expect(throttled.json.error.message).not.toMatch(/database/);
  }, 180_000);
});

describe('multipart uploads under a flaky S3', () => {
  it('a lost answer to CreateMultipartUpload leaves no second upload open once the job ended', async () => {
    chaos.addRule({
      match: (r) => r.method === 'POST' && r.query.has('uploads'),
      fault: 'reset-lost-answer',
      times: 1,
    });
    const before = chaos.stats.faults['reset-lost-answer'];
    await storedContext(12 * MiB);
    expect(chaos.stats.faults['reset-lost-answer'] - before).toBe(1);
    await untilEveryJobEnded();
    noLifecyclePassAbortedUploads();
    expect(await openUploads()).toBe(0);
  }, 180_000);

  it('a killed upload whose version was superseded before its retry leaves no upload open', async () => {
    await suite.app.worker.stop();
    const res = await post({ agent_id: 'killed', content: itemsOfSize(24 * MiB) });
    expect(res.status).toBe(202);
    const { id } = res.json;
    suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
    await expect.poll(openUploads, { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
    await suite.app.worker.stop('SIGKILL');
    expect(await openUploads()).toBeGreaterThan(0);

    // v2 replaces v1 while v1's job waits for its lock to expire
    const replaced = await api(suite.app.url, `/api/v1/contexts/${id}`, {
      method: 'PUT',
      json: { content: [{ role: 'user', content: 'replaced' }] },
    });
    expect(replaced.status, replaced.text).toBeLessThan(300);
    suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
    await untilEveryJobEnded();
    // v1's segment is skipped: no version the lifecycle keeps needs it (lifecycle.keep_versions and
    // keep_for keep none here), so v1 is collected at once rather than uploaded in vain
    expect(suite.app.worker.output()).toMatch(/"outcome":"superseded"/);
    expect((await api(suite.app.url, `/api/v1/contexts/${id}?version=1`)).status).toBe(410);
    noLifecyclePassAbortedUploads();
    expect(await openUploads()).toBe(0);
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json.content).toEqual([expect.objectContaining({ role: 'user', content: 'replaced' })]);
  }, 180_000);
});
