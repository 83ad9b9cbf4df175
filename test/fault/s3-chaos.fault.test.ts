// A chaos run: S3 behind the chaos proxy (about 10 % of requests answered 503 SlowDown, 3 % of
// connections reset before, after or in the middle of an answer), 30 contexts and 30 appends (JSON
// and NDJSON, some large enough to be multipart), two worker SIGKILLs and an API restart on the way.
// Every answer is recorded. Then: nothing acknowledged is lost (every read identical to what was
// sent), no 500, each 503 names the blob store with a cause of S3's, no 200 cut off, no multipart
// upload open once every job has ended, no orphan object after one lifecycle pass.
// Seeded: CTXVAULT_TEST_CHAOS_SEED=<seed> replays the proxy's decisions of a reported failure.
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { type ChaosProxy, seededRandom, startChaosProxy } from '../helpers/chaos-proxy.ts';
import { api, type Item, itemsOfSize } from '../helpers/contexts.ts';
import { type CtxvaultProcess, spawnCtxvault } from '../helpers/processes.ts';
import { rawGet } from '../helpers/raw-http.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const KiB = 1024;
const SEED = Number(process.env.CTXVAULT_TEST_CHAOS_SEED ?? 20261126);
const RATES = { slowDown: 0.1, reset: 0.03 };
const ADMIN = 'chaos-admin';
/** how long one write is tried again (an API restart on a loaded machine takes a while) */
const PATIENCE_MS = 120_000;
/** the causes a 503 may give while only S3 misbehaves */
const S3_CAUSES = new Set(['connection_reset', 'throttled', 'server_error', 'timeout']);

let chaos: ChaosProxy;
afterAll(() => chaos?.close());
/** every api and worker process of the run, for the logs of a failure (CTXVAULT_TEST_CHAOS_LOGS=<file>) */
const processes: CtxvaultProcess[] = [];
afterEach(async (ctx) => {
  const file = process.env.CTXVAULT_TEST_CHAOS_LOGS;
  if (file && ctx.task.result?.state === 'fail') {
    const logs = processes.map((p) => p.output()).join('\n');
    await writeFile(file, `${logs}\nCHAOS\n${chaos.stats.log.join('\n')}\n`);
  }
});
const suite = useSuite({
  env: {
    MCP_QUEUE_LOCK_DURATION: '5s',
    MCP_QUEUE_ATTEMPTS: '20',
    MCP_QUEUE_BACKOFF: '300ms',
    MCP_QUEUE_CONCURRENCY: '4',
    MCP_STORAGE_S3_MAX_ATTEMPTS: '4',
    MCP_STORAGE_S3_REQUEST_TIMEOUT: '5s',
    // every read goes to S3
    MCP_CACHE_MAX_BYTES: '0',
    // the lifecycle pass (it runs when a worker starts) must not abort uploads left open before they
    // are counted: moto dates every upload 2010, so only a grace longer than that keeps them
    MCP_LIFECYCLE_INTERVAL: '24h',
    MCP_LIFECYCLE_MULTIPART_GRACE: '10000d',
    MCP_ADMIN_TOKEN: ADMIN,
  },
  services: async (direct) => {
    chaos = await startChaosProxy(direct.s3Endpoint, { seed: SEED, rates: RATES });
    return { ...direct, s3Endpoint: chaos.url };
  },
});

interface Answer {
  call: string;
  status: number;
  code?: string;
  cause?: string;
  /** for a 200 read: whether its body arrived to the end */
  complete?: boolean;
  /** for a 200 read that arrived to its end: whether it is a whole document */
  whole?: boolean;
}

interface Tracked {
  id: string;
  version: number;
  /** the items every acknowledged write added, in order */
  content: Item[];
}

it('S3 flaky throughout, workers killed twice and the API restarted: nothing lost, every failure told truthfully', async () => {
  const random = seededRandom(SEED);
  const answers: Answer[] = [];
  const unknownOutcomes: string[] = [];
  const base = suite.app.url;

  /** Sends one call; an answer is recorded, a connection failure (API restarting) returns null. */
  const call = async (name: string, path: string, init: RequestInit & { json?: unknown } = {}) => {
    const res = await api(base, path, init).catch(() => null);
    if (!res) {
      unknownOutcomes.push(name);
      return null;
    }
    answers.push({
      call: name,
      status: res.status,
      code: res.json?.error?.code,
      cause: res.json?.error?.details?.cause,
    });
    return res;
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const began = Date.now();
  const phase = (name: string) =>
    console.info(`chaos run: ${name} after ${((Date.now() - began) / 1000).toFixed(1)} s`);

  // 30 contexts: 2 multipart JSON (6 MiB), 5 NDJSON of 1-2 MiB, 23 small JSON (some inline)
  const sizes = [
    ...Array.from({ length: 2 }, () => ({ bytes: 6 * MiB, ndjson: false })),
    ...Array.from({ length: 5 }, () => ({ bytes: (1 + Math.floor(random() * 2)) * MiB, ndjson: true })),
    ...Array.from({ length: 23 }, () => ({ bytes: (8 + Math.floor(random() * 400)) * KiB, ndjson: false })),
  ];
  const tracked: Tracked[] = [];

  const create = async (n: number, bytes: number, ndjson: boolean) => {
    const content = itemsOfSize(bytes);
    const envelope = { agent_id: `chaos-${n}` };
    const headers = { 'idempotency-key': randomUUID(), ...(ndjson && { 'content-type': 'application/x-ndjson' }) };
    const body = ndjson ? [envelope, ...content].map((line) => JSON.stringify(line)).join('\n') : undefined;
    // patient: an answer may be a truthful 503, or missing while the API restarts
    for (const started = Date.now(); Date.now() - started < PATIENCE_MS; ) {
      const res = await call('create', '/api/v1/contexts', {
        method: 'POST',
        headers,
        ...(ndjson ? { body } : { json: { ...envelope, content } }),
      });
      if (res && (res.status === 201 || res.status === 202)) {
        const id = res.json.id;
        tracked.push({ id, version: res.json.version, content });
        return;
      }
      await pause(300);
    }
    throw new Error(`context ${n} was never accepted`);
  };

  const appendTo = async (target: Tracked, ndjson: boolean, large: boolean) => {
    const items: Item[] = large
      ? itemsOfSize(5.5 * MiB).slice(1)
      : Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => {
          const content = `append ${i}: ${randomBytes(512 + Math.floor(random() * 4096)).toString('base64')}`;
          return { role: 'user' as const, content, tokens: Math.ceil(content.length / 4) };
        });
    for (const started = Date.now(); Date.now() - started < PATIENCE_MS; ) {
      const expected = target.version;
      const res = await call(`append ${target.id}`, `/api/v1/contexts/${target.id}/items`, {
        method: 'POST',
        headers: {
          'if-match': `"${expected}"`,
          ...(ndjson && { 'content-type': 'application/x-ndjson' }),
        },
        ...(ndjson ? { body: items.map((item) => JSON.stringify(item)).join('\n') } : { json: { items } }),
      });
      if (res && res.status >= 200 && res.status < 300) {
        target.version = res.json.version;
        target.content.push(...items);
        return;
      }
      // no answer, or a refusal: did it happen anyway? (only this loop writes to this context)
      const status = await call('status', `/api/v1/contexts/${target.id}/status`);
      if (status?.status === 200 && status.json.version === expected + 1) {
        if (res)
          answers.push({
            call: 'append applied despite its failure answer',
            status: res.status,
            code: res.json?.error?.code,
          });
        target.version = expected + 1;
        target.content.push(...items);
        return;
      }
      await pause(300);
    }
    const seen = answers.filter((a) => a.call === `append ${target.id}`).map((a) => `${a.status} ${a.code} ${a.cause}`);
    throw new Error(`an append to ${target.id} was never acknowledged: ${seen.join(', ')}`);
  };

  const reads: Answer[] = [];
  const readOnce = async (target: Tracked) => {
    const read = await rawGet(`${base}/api/v1/contexts/${target.id}`).catch(() => null);
    if (!read) return null;
    const answer: Answer = { call: 'read', status: read.status, complete: read.complete };
    if (read.status === 200 && read.complete) answer.whole = isDocument(read.body);
    if (read.status !== 200) {
      const error = JSON.parse(read.body.toString() || '{}').error;
      Object.assign(answer, { code: error?.code, cause: error?.details?.cause });
    }
    reads.push(answer);
    answers.push(answer);
    return read;
  };

  let stopReading = false;
  const reader = (async () => {
    while (!stopReading) {
      if (tracked.length > 0) await readOnce(tracked[Math.floor(random() * tracked.length)]!);
      await pause(100);
    }
  })();

  const workers = [suite.app.worker];
  processes.push(suite.app.api, suite.app.worker);
  const killWorker = async () => {
    await suite.app.worker.stop('SIGKILL');
    suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
    workers.push(suite.app.worker);
    processes.push(suite.app.worker);
  };
  const restartApi = async () => {
    await suite.app.api.stop();
    suite.app.api = await spawnCtxvault('api', suite.app.env, { readyLine: /API listening/ });
    processes.push(suite.app.api);
  };

  // creates, 4 at a time; the first worker is killed a third of the way
  let next = 0;
  const faults: Promise<void>[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < sizes.length) {
        const n = next++;
        if (n === 10) faults.push(killWorker());
        await create(n, sizes[n]!.bytes, sizes[n]!.ndjson);
      }
    }),
  );

  phase('30 contexts accepted');
  // 30 appends, each context's in order, 4 contexts at a time; the API restarts and the second
  // worker dies on the way
  const plan = Array.from({ length: 30 }, (_, i) => ({
    target: tracked[Math.floor(random() * tracked.length)]!,
    ndjson: i % 2 === 1,
    large: i === 5 || i === 20,
  }));
  let appended = 0;
  const busy = new Set<Tracked>();
  let cursor = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (cursor < plan.length) {
        const step = plan[cursor]!;
        if (busy.has(step.target)) {
          await pause(50);
          continue;
        }
        cursor++;
        busy.add(step.target);
        try {
          await appendTo(step.target, step.ndjson, step.large);
        } finally {
          busy.delete(step.target);
        }
        appended++;
        if (appended === 10) faults.push(restartApi());
        if (appended === 20) faults.push(killWorker());
      }
    }),
  );
  await Promise.all(faults);
  phase('30 appends acknowledged, faults over');

  // every job ends
  const settled = async () => {
    const res = await api(base, '/api/v1/admin/queues', { headers: { authorization: `Bearer ${ADMIN}` } }).catch(
      () => null,
    );
    if (res?.status !== 200) return -1;
    // the lifecycle queue always holds its next scheduled run
    const { 'context-upload': uploads, 'context-delete': deletes } = res.json.queues;
    return [uploads, deletes].reduce((n, q) => n + q.waiting + q.active + q.delayed + q.prioritized, 0);
  };
  await expect.poll(settled, { timeout: 240_000, interval: 250 }).toBe(0);
  stopReading = true;
  await reader;
  phase('every job ended');

  // no upload open once every job has ended — counted before any lifecycle pass could abort one
  const lifecycleAborted = workers
    .map((worker) => worker.output())
    .join('\n')
    .split('\n')
    .filter((line) => line.includes('lifecycle pass finished'))
    .map((line) => JSON.parse(line).multipart_uploads_aborted as number);
  expect(lifecycleAborted.every((n) => n === 0)).toBe(true);
  const open = (await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }))).Uploads;
  expect(open ?? [], 'multipart uploads open after every job ended').toEqual([]);

  // nothing acknowledged lost: each context stored, and read back identical (retrying truthful failures)
  const lost: string[] = [];
  for (const target of tracked) {
    const status = await call('status', `/api/v1/contexts/${target.id}/status`);
    if (status?.json.status !== 'stored' || status.json.version !== target.version) {
      lost.push(`${target.id}: ${status?.json.status} v${status?.json.version}, expected stored v${target.version}`);
      continue;
    }
    let identical = false;
    for (let attempt = 0; attempt < 8 && !identical; attempt++) {
      const read = await readOnce(target);
      if (read?.status === 200 && read.complete) {
        identical = JSON.stringify(JSON.parse(read.body.toString()).content) === JSON.stringify(target.content);
        if (!identical) break;
      }
    }
    if (!identical) lost.push(`${target.id}: read back different or never`);
  }

  phase('every context read back');
  // one lifecycle pass, S3 calm again: no orphan object
  chaos.setRates({ slowDown: 0, reset: 0 });
  const pass = await spawnCtxvault(
    'lifecycle',
    {
      ...suite.app.env,
      MCP_LOGGING_LEVEL: 'warn',
      MCP_LIFECYCLE_OBJECT_GRACE: '0s',
      MCP_LIFECYCLE_MULTIPART_GRACE: '0s',
    },
    { args: ['--once'] },
  );
  expect(pass.child.exitCode, pass.output()).toBe(0);
  const db = new pg.Client({ connectionString: suite.db.url });
  await db.connect();
  // every object must be a segment's: a context's versions are lists of segments
  const { rows } = await db.query<{ object_key: string }>(
    'select object_key from segments where object_key is not null',
  );
  await db.end();
  const referenced = new Set(rows.map((r) => r.object_key));
  const orphans = (await suite.bucket.keys()).filter((key) => !referenced.has(key));

  const serverErrors = answers.filter((a) => a.status >= 500 && a.status !== 503);
  const wrongCauses = answers.filter(
    (a) => a.status === 503 && !(a.code === 'blob_store_unavailable' && S3_CAUSES.has(a.cause ?? '')),
  );
  // a read that failed midway must be aborted (incomplete), never end cleanly with a cut body
  const cutOff = reads.filter((a) => a.status === 200 && a.complete && !a.whole);
  const lies = answers.filter((a) => a.call === 'append applied despite its failure answer');
  const summary = {
    seed: SEED,
    proxy: { requests: chaos.stats.requests, faults: chaos.stats.faults },
    answers: answers.length,
    by_status: Object.fromEntries(
      [...new Set(answers.map((a) => a.status))].map((s) => [s, answers.filter((a) => a.status === s).length]),
    ),
    reads: reads.length,
    aborted_reads: reads.filter((a) => a.complete === false).length,
    no_answer: unknownOutcomes.length,
    contexts: tracked.length,
    lost: lost.length,
    orphans: orphans.length,
  };
  console.info(`chaos run: ${JSON.stringify(summary)}`);
  expect(lost, 'acknowledged writes lost or read back different').toEqual([]);
  expect(serverErrors, 'answers 5xx other than 503').toEqual([]);
  expect(wrongCauses, '503 answers without a blob store cause').toEqual([]);
  expect(lies, 'appends answered as failed that were applied').toEqual([]);
  expect(cutOff, '200 answers that ended cleanly with a cut body').toEqual([]);
  expect(orphans, 'objects no segment points to after one lifecycle pass').toEqual([]);
  expect(chaos.stats.faults['slow-down']).toBeGreaterThan(0);
}, 600_000);

function isDocument(body: Buffer): boolean {
  try {
    return Array.isArray(JSON.parse(body.toString()).content);
  } catch {
    return false;
  }
}
