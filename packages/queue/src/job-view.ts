import type { Job } from 'bullmq';
import { z } from 'zod';
import { type ByteProgress, byteProgressSchema } from './payloads.ts';

/** What the API shows of a job (the schema describes it in the OpenAPI document). */
export const jobViewSchema = z.object({
  id: z.string(),
  queue: z.string(),
  state: z.string(),
  progress: byteProgressSchema.nullable(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  failed_reason: z.string().nullable(),
  created_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
});
export type JobView = z.infer<typeof jobViewSchema>;

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
