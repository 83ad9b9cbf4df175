import type { JobsOptions, Queue } from 'bullmq';
import { type BackendBinding, bindBackend, type QueueConnectionOptions } from './connection.ts';
import { ContextQueue } from './context-queue.ts';
import { JobStateError } from './job-state-error.ts';
import { type JobView, toJobView } from './job-view.ts';
import { DELETE_QUEUE, LIFECYCLE_QUEUE, type QueueName, REPLICA_QUEUE, UPLOAD_QUEUE } from './names.ts';
import {
  type CompactJob,
  compactJobId,
  type DeleteJob,
  deleteJobId,
  queueOfJobId,
  type ReplicaJob,
  replicaJobId,
  type UploadJob,
  uploadJobId,
} from './payloads.ts';
import { QueueUnavailableError } from './queue-unavailable-error.ts';

export interface JobDefaults {
  /** attempts per job before it fails for good */
  attempts: number;
  /** first retry delay in ms; each next one doubles */
  backoffMs: number;
}

/** Enqueues the jobs the API causes and looks them up for status calls. */
export class JobProducer {
  private readonly binding: BackendBinding;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly jobOptions: JobsOptions;
  private closed = false;

  constructor(connection: QueueConnectionOptions, defaults: JobDefaults) {
    this.binding = bindBackend(connection, 'producer');
    this.jobOptions = {
      attempts: defaults.attempts,
      backoff: { type: 'exponential', delay: defaults.backoffMs },
      // kept for a while so clients can still poll a finished job's status; the counts bound the
      // Redis memory they take (about 3 KB each, docs/capacity.md) whatever the rate
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
  }

  /** The id the upload job of that version has (or will have once enqueued). */
  uploadJobId(contextId: string, version: number): string {
    return uploadJobId(contextId, version);
  }

  async enqueueUpload(job: UploadJob): Promise<string> {
    const id = uploadJobId(job.contextId, job.version);
    await this.guard(() => this.queue(UPLOAD_QUEUE).add('upload', job, { ...this.jobOptions, jobId: id }));
    return id;
  }

  /** Compaction runs on the upload queue, after the uploads it waits for. */
  async enqueueCompaction(job: CompactJob): Promise<string> {
    const id = compactJobId(job.contextId, job.version);
    await this.queue(UPLOAD_QUEUE).add('compact', job, { ...this.jobOptions, jobId: id });
    return id;
  }

  async enqueueDelete(job: DeleteJob): Promise<string> {
    const id = deleteJobId(job.contextId);
    await this.guard(() => this.queue(DELETE_QUEUE).add('delete', job, { ...this.jobOptions, jobId: id }));
    return id;
  }

  /**
   * Asks the workers to bring the replica in step for `job.key`. A finished or failed job is removed
   * at once, so the next event of the same key gets a job again; the replica log in Postgres is the
   * record of what is still owed, and the reconciler re-enqueues what Redis lost.
   */
  async enqueueReplication(job: ReplicaJob): Promise<string> {
    const id = replicaJobId(job.key);
    await this.guard(() =>
      this.queue(REPLICA_QUEUE).add('replicate', job, {
        ...this.jobOptions,
        jobId: id,
        removeOnComplete: true,
        removeOnFail: true,
      }),
    );
    return id;
  }

  /**
   * Makes sure the lifecycle job runs every `everyMs`. Idempotent (a scheduler with a fixed id), and
   * called again from time to time by workers, because Redis may forget its schedulers too.
   */
  async scheduleLifecycle(everyMs: number): Promise<void> {
    await this.guard(() =>
      this.queue(LIFECYCLE_QUEUE).upsertJobScheduler(
        'lifecycle',
        { every: everyMs },
        { name: 'lifecycle', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      ),
    );
  }

  /** The job, only when it was caused by `tenantId`: another tenant's job is as absent as none. */
  async getJob(id: string, tenantId: string): Promise<JobView | null> {
    return this.guard(async () => {
      const job = await this.queue(queueOfJobId(id)).getJob(id);
      return job && (job.data as { tenantId?: unknown }).tenantId === tenantId ? toJobView(job) : null;
    });
  }

  /** Proves the queue backend answers (one cheap read); throws QueueUnavailableError when it does not. */
  async check(): Promise<void> {
    await this.guard(() => this.queue(UPLOAD_QUEUE).getJobCounts('waiting'));
  }

  /**
   * Runs calls to the backend, turning a failure because the backend cannot be used into a
   * QueueUnavailableError (with the original as its cause), as the connection explains it.
   */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof JobStateError) throw err;
      const reason = this.binding.unavailable(err);
      throw reason ? new QueueUnavailableError(reason, err) : err;
    }
  }

  /** The queue of that name, opened on first use (each one holds connections of its own). */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new ContextQueue(name, this.binding.options as never, this.binding.factory as never) as Queue;
      queue.on('error', () => {});
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const queue of this.queues.values()) {
      try {
        await queue.close();
      } catch {
        // closing is best effort; the next resource still gets its turn
      }
    }
    await this.binding.close();
  }
}
