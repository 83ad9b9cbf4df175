import type { Logger, UploadOutcome, VersionUploader } from '@ctxvault/core';
import { type UploadJob, uploadJobSchema } from '@ctxvault/queue';
import type { Job } from 'bullmq';

/**
 * Moves one staged version into the blob store. Throwing lets BullMQ retry with backoff; on the
 * last attempt the row is marked `failed` with the reason, and its staged body is kept so a retry
 * from the dashboard or admin API can still store it.
 */
export function uploadProcessor(uploader: VersionUploader, logger: Logger) {
  return async function processUpload(job: Job<UploadJob>): Promise<UploadOutcome> {
    const data = uploadJobSchema.parse(job.data);
    // job_id, context_id and request_id come with every line from the job's log context
    const log = { version: data.version, attempt: job.attemptsMade + 1 };
    const started = performance.now();
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
