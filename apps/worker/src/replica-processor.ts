import type { Logger, ReplicationOutcome, Replicator } from '@ctxvault/core';
import { type ReplicaJob, replicaJobSchema } from '@ctxvault/queue';
import type { Job } from 'bullmq';

/**
 * Brings the replica in step for one object key. Throwing lets BullMQ retry with backoff; after the
 * last attempt the job is dropped, and the reconciler enqueues the key again from the replica log.
 */
export function replicaProcessor(replicator: Replicator, logger: Logger) {
  return async function processReplica(job: Job<ReplicaJob>): Promise<ReplicationOutcome> {
    const { key } = replicaJobSchema.parse(job.data);
    try {
      const outcome = await replicator.replicate(key);
      logger.debug({ key, outcome }, 'replica in step');
      return outcome;
    } catch (err) {
      logger.warn({ key, err, attempt: job.attemptsMade + 1 }, 'replication failed');
      throw err;
    }
  };
}
