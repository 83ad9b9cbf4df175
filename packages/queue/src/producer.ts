import { Queue, type JobsOptions } from 'bullmq';
import { bindBackend, type BackendBinding, type QueueConnectionOptions } from './connection.ts';
import { DELETE_QUEUE, LIFECYCLE_QUEUE, UPLOAD_QUEUE, type QueueName } from './names.ts';
import { deleteJobId, uploadJobId, type DeleteJob, type UploadJob } from './payloads.ts';
import { toJobView, type JobView } from './job-view.ts';

export interface JobDefaults {
  /** attempts per job before it fails for good */
  attempts: number;
  /** first retry delay in ms; each next one doubles */
  backoffMs: number;
}

/** Enqueues the jobs the API causes and looks them up for status calls. */
export class JobProducer {
  private readonly binding: BackendBinding;
  private readonly queues: Record<QueueName, Queue>;
  private readonly jobOptions: JobsOptions;
  private closed = false;

  constructor(connection: QueueConnectionOptions, defaults: JobDefaults) {
    this.binding = bindBackend(connection, 'producer');
    const make = (name: QueueName) => {
      const queue = new Queue(name, this.binding.options as never, this.binding.factory as never) as Queue;
      queue.on('error', () => {});
      return queue;
    };
    this.queues = { [UPLOAD_QUEUE]: make(UPLOAD_QUEUE), [DELETE_QUEUE]: make(DELETE_QUEUE), [LIFECYCLE_QUEUE]: make(LIFECYCLE_QUEUE) };
    this.jobOptions = {
      attempts: defaults.attempts,
      backoff: { type: 'exponential', delay: defaults.backoffMs },
      // kept for a while so clients can still poll a finished job's status
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }

  async enqueueUpload(job: UploadJob): Promise<string> {
    const id = uploadJobId(job.contextId, job.version);
    await this.queues[UPLOAD_QUEUE].add('upload', job, { ...this.jobOptions, jobId: id });
    return id;
  }

  async enqueueDelete(job: DeleteJob): Promise<string> {
    const id = deleteJobId(job.contextId);
    await this.queues[DELETE_QUEUE].add('delete', job, { ...this.jobOptions, jobId: id });
    return id;
  }

  /**
   * Makes sure the lifecycle job runs every `everyMs`. Idempotent (a scheduler with a fixed id), and
   * called again from time to time by workers, because Redis may forget its schedulers too.
   */
  async scheduleLifecycle(everyMs: number): Promise<void> {
    await this.queues[LIFECYCLE_QUEUE].upsertJobScheduler(
      'lifecycle',
      { every: everyMs },
      { name: 'lifecycle', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
  }

  async getJob(id: string): Promise<JobView | null> {
    const queue = id.startsWith('delete-') ? this.queues[DELETE_QUEUE] : this.queues[UPLOAD_QUEUE];
    const job = await queue.getJob(id);
    return job ? toJobView(job) : null;
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const queue of Object.values(this.queues)) {
      try {
        await queue.close();
      } catch {
        // closing is best effort; the next resource still gets its turn
      }
    }
    await this.binding.close();
  }
}
