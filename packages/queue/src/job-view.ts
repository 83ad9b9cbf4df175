import type { Job } from 'bullmq';
import type { ByteProgress } from './payloads.ts';

/** What the API shows of a job. */
export interface JobView {
  id: string;
  queue: string;
  state: string;
  progress: ByteProgress | null;
  attempts: number;
  max_attempts: number;
  failed_reason: string | null;
  created_at: string;
  finished_at: string | null;
}

/** `state` when the caller knows it already (a listing by state), saving a round trip. */
export async function toJobView(job: Job, state?: string): Promise<JobView> {
  return {
    id: job.id ?? '',
    queue: job.queueName,
    state: state ?? (await job.getState()),
    progress: isByteProgress(job.progress) ? job.progress : null,
    attempts: job.attemptsMade,
    max_attempts: job.opts.attempts ?? 1,
    failed_reason: job.failedReason || null,
    created_at: new Date(job.timestamp).toISOString(),
    finished_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

function isByteProgress(value: unknown): value is ByteProgress {
  return typeof value === 'object' && value !== null && 'bytes' in value && 'total' in value;
}
