import type { Job, Queue } from 'bullmq';
import { z } from 'zod';
import { JobStateError } from './job-state-error.ts';
import { jobViewSchema, toJobView } from './job-view.ts';
import { ALL_QUEUES, type QueueName } from './names.ts';

/** The states a job can be listed by. */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job as the admin API lists it: its view plus what it is about and who caused it. */
export const adminJobViewSchema = jobViewSchema.extend({
  context_id: z.string().nullable(),
  version: z.number().int().nullable(),
  request_id: z.string().nullable(),
});
export type AdminJobView = z.infer<typeof adminJobViewSchema>;

/** What operators do with jobs: look at them by state, retry, remove; the dashboard does the same. */
export class QueueAdmin {
  /**
   * @param queueOf the queue of a name (opened on first use)
   * @param names the queues this deployment uses (the embedded mode runs no lifecycle queue)
   * @param guard runs each call to the backend (JobProducer.guard: QueueUnavailableError when it cannot be used)
   */
  constructor(
    private readonly queueOf: (name: QueueName) => Queue,
    readonly names: readonly QueueName[] = ALL_QUEUES,
    private readonly guard: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
  ) {}

  /** The queues themselves, for the dashboard (opening them). */
  queues(): Queue[] {
    return this.names.map(this.queueOf);
  }

  /** Jobs per state, per queue. */
  counts(): Promise<Partial<Record<QueueName, Record<JobState, number>>>> {
    return this.guard(() => this.countAll());
  }

  private async countAll(): Promise<Partial<Record<QueueName, Record<JobState, number>>>> {
    const entries = await Promise.all(
      this.names.map(
        async (name) =>
          [name, (await this.queueOf(name).getJobCounts(...JOB_STATES)) as Record<JobState, number>] as const,
      ),
    );
    return Object.fromEntries(entries);
  }

  /** Jobs of one state, newest first. */
  list(name: QueueName, state: JobState, offset: number, limit: number): Promise<AdminJobView[]> {
    return this.guard(async () => {
      const jobs = await this.queueOf(name).getJobs(state, offset, offset + limit - 1);
      return Promise.all(jobs.filter((job): job is Job => Boolean(job)).map((job) => toAdminView(job, state)));
    });
  }

  get(name: QueueName, id: string): Promise<AdminJobView | null> {
    return this.guard(async () => {
      const job = await this.queueOf(name).getJob(id);
      return job ? toAdminView(job) : null;
    });
  }

  /** Runs a failed job again with all its attempts; null when there is no such job. */
  retry(name: QueueName, id: string): Promise<AdminJobView | null> {
    return this.guard(async () => {
      const job = await this.queueOf(name).getJob(id);
      if (!job) return null;
      const state = await job.getState();
      if (state !== 'failed') throw new JobStateError(`job ${id} is ${state}; only failed jobs can be retried`, state);
      // a RetryableJob (context-queue.ts): its attempts start over
      await job.retry('failed');
      return toAdminView(job);
    });
  }

  /**
   * Runs every failed job of a queue again, each with all its attempts; returns how many. Job by job:
   * `queue.retryJobs` would keep their exhausted attempt counts.
   */
  retryFailed(name: QueueName): Promise<number> {
    return this.guard(() => this.retryAllFailed(name));
  }

  private async retryAllFailed(name: QueueName): Promise<number> {
    const queue = this.queueOf(name);
    // counted first, so jobs failing again meanwhile are not retried twice in one call
    const { failed = 0 } = await queue.getJobCounts('failed');
    const retried = new Set<string>();
    while (retried.size < failed) {
      const page = (await queue.getFailed(0, 99)).filter((job) => !retried.has(job.id!));
      if (page.length === 0) break;
      for (const job of page) {
        retried.add(job.id!);
        await job.retry('failed');
      }
    }
    return retried.size;
  }

  /** Removes a job that is not running; false when there is no such job. */
  remove(name: QueueName, id: string): Promise<boolean> {
    return this.guard(async () => {
      const job = await this.queueOf(name).getJob(id);
      if (!job) return false;
      const state = await job.getState();
      if (state === 'active')
        throw new JobStateError(`job ${id} is running; wait for it to finish or fail before removing it`, state);
      await job.remove();
      return true;
    });
  }
}

async function toAdminView(job: Job, state?: string): Promise<AdminJobView> {
  const data = (job.data ?? {}) as { contextId?: unknown; version?: unknown; requestId?: unknown };
  return {
    ...(await toJobView(job, state)),
    context_id: typeof data.contextId === 'string' ? data.contextId : null,
    version: typeof data.version === 'number' ? data.version : null,
    request_id: typeof data.requestId === 'string' ? data.requestId : null,
  };
}
