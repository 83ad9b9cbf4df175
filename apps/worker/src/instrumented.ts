import { type Metrics, withLogContext } from '@ctxvault/observability';
import type { QueueName } from '@ctxvault/queue';
import type { Job } from 'bullmq';

export type JobMetrics = Pick<Metrics, 'jobsCompleted' | 'jobsFailed' | 'jobDuration'>;

/**
 * Runs a processor so that every log line of its job (S3 calls included) carries the job's
 * `job_id`, `context_id` and the `request_id` of the request that caused it, and counts and times
 * each attempt by queue.
 */
export function instrumented<D, R>(queue: QueueName, processor: (job: Job<D>) => Promise<R>, metrics: JobMetrics) {
  return async function instrumentedProcessor(job: Job<D>): Promise<R> {
    const data = (job.data ?? {}) as { requestId?: unknown; contextId?: unknown };
    const fields = {
      queue,
      job_id: job.id,
      ...(typeof data.contextId === 'string' && { context_id: data.contextId }),
      ...(typeof data.requestId === 'string' && { request_id: data.requestId }),
    };
    const stop = metrics.jobDuration.startTimer({ queue });
    return withLogContext(fields, async () => {
      try {
        const result = await processor(job);
        metrics.jobsCompleted.inc({ queue });
        stop({ outcome: 'completed' });
        return result;
      } catch (err) {
        metrics.jobsFailed.inc({ queue });
        stop({ outcome: 'failed' });
        throw err;
      }
    });
  };
}
