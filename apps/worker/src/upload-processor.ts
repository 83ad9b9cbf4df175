import type { Compactor, Logger, UploadOutcome, VersionUploader } from '@ctxvault/core';
import { compactJobSchema, type UploadJob, uploadJobSchema } from '@ctxvault/queue';
import type { Job } from 'bullmq';

/**
 * Jobs of the upload queue. `upload`: moves one staged segment into the blob store and counts its
 * tokens. Throwing lets BullMQ retry with backoff; on the last attempt the row is marked `failed`
 * with the reason, and its staged segment is kept so a retry from the dashboard or admin API can
 * still store it. `compact`: merges a context's segments (compactor.ts).
 */
export function uploadProcessor(uploader: VersionUploader, compactor: Compactor, logger: Logger) {
  return async function processUpload(job: Job<UploadJob>): Promise<UploadOutcome | string> {
    const started = performance.now();
    if (job.name === 'compact') {
      const data = compactJobSchema.parse(job.data);
      const outcome = await compactor.compact(data.contextId);
      logger.info(
        { version: data.version, outcome, ms: Math.round(performance.now() - started) },
        'compaction finished',
      );
      return outcome;
    }
    const data = uploadJobSchema.parse(job.data);
    // job_id, context_id and request_id come with every line from the job's log context
    const log = { version: data.version, attempt: job.attemptsMade + 1 };
    try {
      const outcome = await uploader.store(data.contextId, data.version, (progress) =>
        job.updateProgress(progress).catch((err: unknown) => logger.debug({ ...log, err }, 'progress update failed')),
      );
      logger.info({ ...log, outcome, ms: Math.round(performance.now() - started) }, 'upload finished');
      return outcome;
    } catch (err) {
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = job.attemptsMade + 1 >= attempts;
      logger.warn({ ...log, err, last_attempt: lastAttempt }, 'upload failed');
      if (lastAttempt) await uploader.markFailed(data.contextId, data.version, (err as Error).message);
      throw err;
    }
  };
}
