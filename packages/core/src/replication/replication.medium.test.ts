// The replica log on a real database (cloned from the run's template) and two real stores on disk;
// the queue is a recorder of the keys enqueued (BullMQ itself runs in test/e2e/replica.e2e.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { createOrm, type MikroORM, ReplicaLogRepository } from '@ctxvault/db';
import { type BlobStore, LocalBlobStore } from '@ctxvault/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../../../test/helpers/database.ts';
import { createFileDatabase } from '../../../../test/helpers/file-database.ts';
import { verifyReplica } from './replica-verifier.ts';
import { replicatingStore } from './replicating-store.ts';
import { Replicator } from './replicator.ts';

let db: TestDatabase;
let orm: MikroORM;
let dir: string;
let log: ReplicaLogRepository;
let primary: LocalBlobStore;
let replica: LocalBlobStore;
const enqueued: string[] = [];
const jobs = {
  enqueueReplication: async ({ key }: { key: string }) => {
    enqueued.push(key);
    return key;
  },
};
const logger = { info() {}, warn() {}, error() {}, debug() {} };

beforeAll(async () => {
  db = await createFileDatabase();
  orm = await createOrm({ url: db.url, poolMax: 4 });
  log = new ReplicaLogRepository(orm);
  dir = await mkdtemp(join(tmpdir(), 'ctxvault-replication-'));
  primary = new LocalBlobStore({ root: join(dir, 'primary') });
  replica = new LocalBlobStore({ root: join(dir, 'replica') });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const text = async (store: BlobStore, key: string) => (await buffer(await store.get(key))).toString();

describe('replication', () => {
  it('records each write and removal after the primary, and the job brings the replica in step', async () => {
    const store = replicatingStore(primary, { log, jobs, logger });
    const replicator = new Replicator({ primary, replica, log, jobs });
    await store.put('r1/a', Buffer.from('first'), { metadata: { sha256: 'abc' } });
    expect(enqueued).toEqual(['r1/a']);
    expect(await log.lag()).toMatchObject({ pending_objects: 1 });

    expect(await replicator.replicate('r1/a')).toBe('copied');
    expect(await text(replica, 'r1/a')).toBe('first');
    expect((await replica.head('r1/a'))?.metadata).toEqual({ sha256: 'abc' });
    expect(await log.lag()).toEqual({ pending_objects: 0, lag_seconds: 0 });
    expect(await replicator.replicate('r1/a')).toBe('in-step');

    await store.delete('r1/a');
    expect(await replicator.replicate('r1/a')).toBe('removed');
    expect(await replica.head('r1/a')).toBeNull();
    expect(await log.find('r1/a')).toBeNull();
  });

  it('copies again when the key changes while its copy runs', async () => {
    const store = replicatingStore(primary, { log, jobs, logger });
    await store.put('r2/a', Buffer.from('old'));
    let rewrites = 1;
    // the primary gets a new body for the key while the first copy is being written
    const racing: BlobStore = Object.assign(Object.create(replica) as BlobStore, {
      put: async (...args: Parameters<BlobStore['put']>) => {
        const result = await replica.put(...args);
        if (rewrites-- > 0) await store.put('r2/a', Buffer.from('new'));
        return result;
      },
    });
    expect(await new Replicator({ primary, replica: racing, log, jobs }).replicate('r2/a')).toBe('copied');
    expect(await text(replica, 'r2/a')).toBe('new');
    expect((await log.find('r2/a'))?.replicated_at).toBeInstanceOf(Date);
  });

  it('removes, on the replica, every object under a deleted prefix, those written before the replica included', async () => {
    await primary.put('r3/old', Buffer.from('untracked'));
    await replica.put('r3/old', Buffer.from('untracked'));
    const store = replicatingStore(primary, { log, jobs, logger });
    await store.put('r3/new', Buffer.from('tracked'));
    const replicator = new Replicator({ primary, replica, log, jobs });
    await replicator.replicate('r3/new');
    enqueued.length = 0;
    expect(await store.deletePrefix('r3/')).toBe(2);
    expect(enqueued.sort()).toEqual(['r3/new', 'r3/old']);
    for (const key of enqueued) expect(await replicator.replicate(key)).toBe('removed');
    expect(await replica.head('r3/old')).toBeNull();
    expect(await replica.head('r3/new')).toBeNull();
  });

  it('fails (to be retried) an object the primary lost, and the reconciler finds owed keys again', async () => {
    const store = replicatingStore(primary, { log, jobs, logger });
    await store.put('r4/a', Buffer.from('soon gone'));
    await primary.delete('r4/a');
    const replicator = new Replicator({ primary, replica, log, jobs });
    await expect(replicator.replicate('r4/a')).rejects.toThrow(/absent from the primary/);
    enqueued.length = 0;
    expect(await replicator.reconcile(0)).toBe(1);
    expect(enqueued).toEqual(['r4/a']);
    expect((await log.lag()).lag_seconds).toBeGreaterThan(0);
    await store.delete('r4/a');
    expect(await replicator.replicate('r4/a')).toBe('removed');
  });

  it('verify reports and repairs each kind of difference, then finds none', async () => {
    const store = replicatingStore(primary, { log, jobs, logger });
    const replicator = new Replicator({ primary, replica, log, jobs });
    for (const key of ['v/in-step', 'v/lost', 'v/differs']) {
      await store.put(key, Buffer.from(key));
      await replicator.replicate(key);
    }
    await primary.put('v/missing', Buffer.from('never replicated'));
    await primary.delete('v/lost');
    await replica.put('v/differs', Buffer.from('other bytes'));
    await replica.put('v/extra', Buffer.from('left over'));
    const progress: number[] = [];
    const options = { primary, replica, log, prefix: 'v/', onProgress: (done: number) => progress.push(done) };
    expect(await verifyReplica({ ...options, repair: false })).toMatchObject({
      checked: 5,
      in_step: 1,
      missing: 1,
      differing: 1,
      lost_on_primary: 1,
      extra: 1,
      repaired: 0,
    });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(await verifyReplica({ ...options, repair: true })).toMatchObject({ repaired: 4 });
    expect(await text(primary, 'v/lost')).toBe('v/lost');
    expect(await text(replica, 'v/differs')).toBe('v/differs');
    expect(await replica.head('v/extra')).toBeNull();
    expect(await verifyReplica({ ...options, repair: false })).toMatchObject({ checked: 4, in_step: 4 });
  });
});
