import type { ReplicaLogRepository } from '@ctxvault/db';
import type { ReplicaJob } from '@ctxvault/queue';

/** What replication needs of the replica log; the real one is `ReplicaLogRepository`. */
export type ReplicaLog = Pick<
  ReplicaLogRepository,
  'recordWrite' | 'recordDeletes' | 'find' | 'markReplicated' | 'forget' | 'recordInStep' | 'findOwed'
>;

export interface ReplicaJobs {
  enqueueReplication(job: ReplicaJob): Promise<string>;
}
