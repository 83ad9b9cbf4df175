// ctxvault on a real Redis Cluster (three masters, three replicas, on spare local ports): jobs flow
// through hash-tagged queue keys, a master SIGKILLed mid-run fails over to its replica, and a
// cluster that forgets everything (FLUSHALL on every master) loses nothing either: Postgres
// remembers what is pending, and the reconciler enqueues it again.
import { afterAll, expect, it } from 'vitest';
import { api, waitUntilSettled } from '../helpers/contexts.ts';
import { FAULT_SETTINGS, flushWithJobsWaiting, sendContexts } from '../helpers/fault-setup.ts';
import { type Accepted, checkIntegrity } from '../helpers/integrity.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { type RedisClusterUnderTest, startRedisCluster } from '../helpers/redis-cluster.ts';
import { useSuite } from '../helpers/suite.ts';

const KiB = 1024;
let cluster: RedisClusterUnderTest;
// registered first, so it runs last: the deployment stops before its cluster does
afterAll(() => cluster?.stop());
const suite = useSuite({
  // the lifecycle pass (which re-enqueues pending rows without a job) runs every 2 s here
  env: { ...FAULT_SETTINGS, MCP_LIFECYCLE_INTERVAL: '2s' },
  services: async (direct) => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    return { ...direct, redisUrl: cluster.url, redisCluster: true };
  },
});

/** The hash tag every queue key of this deployment carries, so the master that holds the queues. */
const queueTag = () => `{${suite.app.env.MCP_QUEUE_PREFIX}}`;
/** How many lifecycle passes the running worker has finished so far. */
const lifecyclePasses = () => suite.app.worker.output().split('lifecycle pass finished').length - 1;

it('runs jobs through hash-tagged keys: an upload is stored and its job is found', async () => {
  const { accepted } = await sendContexts(suite.app.url, 1, 512 * KiB);
  const [one] = accepted;
  expect((await waitUntilSettled(suite.app.url, one!.id)).at(-1)).toMatchObject({ status: 'stored' });
  // the row is stored inside the job, which BullMQ marks completed a moment later
  await expect
    .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${one!.id}/status`)).json, { timeout: 10_000 })
    .toMatchObject({ status: 'stored', job: { state: 'completed' } });
  expect(suite.app.api.output() + suite.app.worker.output()).not.toMatch(/CROSSSLOT/);
}, 120_000);

it('a master SIGKILLed mid-run: its replica takes over and every accepted context is stored', async () => {
  const accepted: Accepted[] = [];
  let sent = 0;
  const send = async () => {
    const one = await sendContexts(suite.app.url, 1, 512 * KiB);
    sent += one.sent;
    accepted.push(...one.accepted);
  };
  for (let i = 0; i < 6; i++) await send();
  // the master holding the queues dies while uploads run and contexts keep coming
  let failedOver = false;
  const failover = cluster.killMasterOf(queueTag()).finally(() => {
    failedOver = true;
  });
  let sentDuringFailover = 0;
  for (; !failedOver; sentDuringFailover++) await send();
  const { killed, promoted } = await failover;
  const passesBefore = lifecyclePasses();
  for (let i = 0; i < 6; i++) await send();

  expect(promoted).not.toBe(killed);
  expect(sentDuringFailover).toBeGreaterThan(0);
  // Postgres accepted every write: an enqueue lost to the failover is left to the reconciler
  expect(accepted).toHaveLength(sent);
  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, sent, accepted);
  console.info(`failover: master ${killed} -> ${promoted}, ${sentDuringFailover} contexts sent meanwhile`);
  expect(report).toMatchObject({ stored: sent, lost: 0, orphans: 0, incomplete_uploads: 0 });
  // neither process gave up on the cluster: the scheduled lifecycle job, whose consumer was blocked
  // on the killed master, runs again, and the worker still shuts down cleanly
  expect(suite.app.api.child.exitCode).toBeNull();
  expect(suite.app.worker.child.exitCode).toBeNull();
  await expect.poll(lifecyclePasses, { timeout: 20_000 }).toBeGreaterThan(passesBefore);
  await suite.app.worker.stop();
  expect(suite.app.worker.output()).not.toMatch(/shutdown step did not finish/);
  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
}, 300_000);

it('FLUSHALL on every master with jobs waiting: every accepted context ends stored', async () => {
  const report = await flushWithJobsWaiting(suite, () => cluster.flushAll(), 8, 512 * KiB);
  expect(report).toMatchObject({ accepted: 8, stored: 8, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
