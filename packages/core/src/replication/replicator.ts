import type { BlobStore } from '@ctxvault/storage';
import { copyObject } from './copy-object.ts';
import type { ReplicaJobs, ReplicaLog } from './ports.ts';

export interface ReplicatorDeps {
  /** the primary store itself, not the replicating one: reading it records nothing */
  primary: BlobStore;
  replica: BlobStore;
  log: ReplicaLog;
  jobs: ReplicaJobs;
}

export type ReplicationOutcome = 'copied' | 'removed' | 'in-step' | 'untracked';

/** Changes of one key folded into a job that is already running are caught up to this many times. */
const MAX_ROUNDS = 5;

/** The replication jobs' work: bring the replica in step with the primary for one key at a time. */
export class Replicator {
  constructor(private readonly deps: ReplicatorDeps) {}

  /**
   * Copies the key's object to the replica, or removes it there, as the log says is owed, then marks
   * the generation it handled. A key changed meanwhile is handled again. Idempotent: a key already in
   * step is left alone. Throws (for the job to retry) when a store fails.
   */
  async replicate(key: string): Promise<ReplicationOutcome> {
    const { primary, replica, log } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await log.find(key);
      if (!entry) return 'untracked';
      if (entry.replicated_at) return 'in-step';
      if (entry.deleted) {
        await replica.delete(key);
        if (await log.forget(key, entry.generation)) return 'removed';
        continue;
      }
      const info = await primary.head(key);
      if (!info) {
        // removed since (its removal is recorded next), or lost by the primary: retried until known
        const now = await log.find(key);
        if (now && now.generation !== entry.generation) continue;
        throw new Error(`object "${key}" is owed to the replica but absent from the primary`);
      }
      await copyObject(primary, replica, info);
      if (await log.markReplicated(key, entry.generation)) return 'copied';
    }
    throw new Error(`object "${key}" kept changing while it was replicated; trying again later`);
  }

  /** Re-enqueues keys owed for longer than `staleMs` (Redis may have lost their jobs); returns how many. */
  async reconcile(staleMs: number): Promise<number> {
    const keys = await this.deps.log.findOwed(staleMs, 500);
    for (const key of keys) await this.deps.jobs.enqueueReplication({ key });
    return keys.length;
  }
}
