import { z } from 'zod';
import { DELETE_QUEUE, type QueueName, UPLOAD_QUEUE } from './names.ts';

export const uploadJobSchema = z.object({
  contextId: z.uuid(),
  version: z.number().int().positive(),
  tenantId: z.string().min(1),
  /** the request that caused the job, carried into the worker's logs */
  requestId: z.string().optional(),
});
export type UploadJob = z.infer<typeof uploadJobSchema>;

/** Merges the segments of a context's version into one object; runs on the upload queue. */
export const compactJobSchema = z.object({
  contextId: z.uuid(),
  version: z.number().int().positive(),
  tenantId: z.string().min(1),
});
export type CompactJob = z.infer<typeof compactJobSchema>;

export const deleteJobSchema = z.object({
  contextId: z.uuid(),
  tenantId: z.string().min(1),
  requestId: z.string().optional(),
});
export type DeleteJob = z.infer<typeof deleteJobSchema>;

/** Progress a job reports while it moves bytes. */
export const byteProgressSchema = z.object({
  bytes: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  percent: z.number().int().min(0).max(100),
});
export type ByteProgress = z.infer<typeof byteProgressSchema>;

/**
 * Job ids derive from the business key, so a retried request or a re-enqueue by the reconciler
 * finds the existing job instead of uploading twice. No ':' and never all digits (BullMQ rules).
 */
export function uploadJobId(contextId: string, version: number): string {
  return `upload-${contextId}-v${version}`;
}

export function compactJobId(contextId: string, version: number): string {
  return `compact-${contextId}-v${version}`;
}

export function deleteJobId(contextId: string): string {
  return `delete-${contextId}`;
}

/** The queue a job id of ours belongs to, read back from the shape the functions above give it. */
export function queueOfJobId(id: string): QueueName {
  return id.startsWith('delete-') ? DELETE_QUEUE : UPLOAD_QUEUE;
}
