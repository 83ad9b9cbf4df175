import type { Job } from 'bullmq';
import type { Logger, VersionUploader } from '@ctxvault/core';
import { deleteJobSchema, type DeleteJob } from '@ctxvault/queue';

/** Removes every object version, staged body and the row of a context marked for deletion. */
export function deleteProcessor(uploader: VersionUploader, logger: Logger) {
  return async function processDelete(job: Job<DeleteJob>): Promise<string> {
    const data = deleteJobSchema.parse(job.data);
    const outcome = await uploader.purge(data.contextId);
    logger.info({ outcome }, 'delete finished');
    return outcome;
  };
}
