import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DELETE_QUEUE, type QueueName, REPLICA_QUEUE, UPLOAD_QUEUE } from './names.ts';

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

/** Bring the replica in step with the primary for one object key (copy it, or remove it there). */
export const replicaJobSchema = z.object({
  key: z.string().min(1),
});
export type ReplicaJob = z.infer<typeof replicaJobSchema>;

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

/**
 * One job per object key while it waits: the job reads what the key needs when it runs, so events
 * that arrive meanwhile are folded into it. Keys may be long and hold '/', so the id is their hash.
 */
export function replicaJobId(key: string): string {
  return `replica-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** The queue a job id of ours belongs to, read back from the shape the functions above give it. */
export function queueOfJobId(id: string): QueueName {
  if (id.startsWith('delete-')) return DELETE_QUEUE;
  return id.startsWith('replica-') ? REPLICA_QUEUE : UPLOAD_QUEUE;
}
