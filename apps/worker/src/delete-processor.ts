import type { Logger, VersionUploader } from '@ctxvault/core';
import { type DeleteJob, deleteJobSchema } from '@ctxvault/queue';
import type { Job } from 'bullmq';

/** Removes every object version, staged body and the row of a context marked for deletion. */
export function deleteProcessor(uploader: VersionUploader, logger: Logger) {
  return async function processDelete(job: Job<DeleteJob>): Promise<string> {
    const data = deleteJobSchema.parse(job.data);
    const outcome = await uploader.purge(data.contextId);
    logger.info({ outcome }, 'delete finished');
    return outcome;
  };
}
