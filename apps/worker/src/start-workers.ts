import type { Logger, VersionUploader } from '@ctxvault/core';
import { createConsumer, DELETE_QUEUE, UPLOAD_QUEUE, type QueueConnectionOptions } from '@ctxvault/queue';
import { uploadProcessor } from './upload-processor.ts';
import { deleteProcessor } from './delete-processor.ts';
import { instrumented, type JobMetrics } from './instrumented.ts';

export interface WorkerOptions {
  uploader: VersionUploader;
  connection: QueueConnectionOptions;
  logger: Logger;
  /** jobs completed, failed and their durations, by queue */
  metrics: JobMetrics;
  /** jobs processed at once per queue in this process */
  concurrency: number;
  /** seconds an idle consumer waits before polling (low on embedded PGlite, which has no NOTIFY) */
  drainDelay?: number;
  /** how often to look for pending work whose job was lost; 0 turns it off */
  reconcileEveryMs: number;
}

/**
 * Runs the upload and delete consumers and the reconciler in this process. More processes scale it
 * out: nothing is local to one of them. `close()` lets in-flight jobs finish, and is safe twice.
 */
export function startWorkers(options: WorkerOptions): { close(): Promise<void> } {
  const { uploader, connection, logger, metrics, concurrency, drainDelay } = options;
  const consumers = [
    createConsumer(UPLOAD_QUEUE, instrumented(UPLOAD_QUEUE, uploadProcessor(uploader, logger), metrics), connection, { concurrency, drainDelay }),
    createConsumer(DELETE_QUEUE, instrumented(DELETE_QUEUE, deleteProcessor(uploader, logger), metrics), connection, { concurrency, drainDelay }),
  ];
  for (const { worker } of consumers) {
    worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'worker error'));
  }

  let reconciling = false;
  const reconcile = async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      const found = await uploader.reconcile(options.reconcileEveryMs);
      if (found.uploads || found.deletes) logger.info(found, 'reconciler re-enqueued work whose job was missing');
    } catch (err) {
      logger.warn({ err }, 'reconcile pass failed; will try again');
    } finally {
      reconciling = false;
    }
  };
  const timer = options.reconcileEveryMs > 0 ? setInterval(reconcile, options.reconcileEveryMs) : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        for (const consumer of consumers) {
          try {
            await consumer.close();
          } catch (err) {
            logger.warn({ err }, 'closing a consumer failed');
          }
        }
      })()),
  };
}
