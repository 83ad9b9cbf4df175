import { type FinishedStatus, Job, Queue, type RetryOptions } from 'bullmq';

/**
 * A job that starts over with all its attempts when it is retried by hand: the admin API, and the
 * dashboard's retry and retry-all, which call `job.retry(state)`. BullMQ keeps `attemptsMade` by
 * default, so a job that had used its 5 attempts showed "6 of 5" after a retry and failed for good
 * on its first new error.
 */
// biome-ignore lint/suspicious/noExplicitAny: the same defaults as BullMQ's Job
class RetryableJob<DataType = any, ReturnType = any, NameType extends string = string> extends Job<
  DataType,
  ReturnType,
  NameType
> {
  override retry(state?: FinishedStatus, opts: RetryOptions = {}): Promise<void> {
    return super.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true, ...opts });
  }
}

/** The queues of ctxvault: every job they hand out (getJob, getJobs, getFailed…) is a RetryableJob. */
export class ContextQueue extends Queue {
  protected override get Job(): typeof Job {
    return RetryableJob as typeof Job;
  }
}
