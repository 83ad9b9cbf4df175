import type { Compactor, LifecycleService, Logger, Replicator, VersionUploader } from '@ctxvault/core';
import {
  createConsumer,
  DELETE_QUEUE,
  type JobProducer,
  LIFECYCLE_QUEUE,
  type QueueConnectionOptions,
  REPLICA_QUEUE,
  UPLOAD_QUEUE,
} from '@ctxvault/queue';
import { deleteProcessor } from './delete-processor.ts';
import { instrumented, type JobMetrics } from './instrumented.ts';
import { lifecycleProcessor } from './lifecycle-processor.ts';
import { replicaProcessor } from './replica-processor.ts';
import { uploadProcessor } from './upload-processor.ts';

export interface WorkerOptions {
  uploader: VersionUploader;
  compactor: Compactor;
  lifecycle: LifecycleService;
  /** set when storage.replica is: this process also runs replication jobs */
  replicator?: Replicator;
  /** schedules the lifecycle job */
  jobs: Pick<JobProducer, 'scheduleLifecycle'>;
  /** how often the lifecycle job runs */
  lifecycleEveryMs: number;
  /**
   * `queue`: a BullMQ job scheduler runs the lifecycle pass on one worker of the deployment.
   * `timer`: this process runs it itself — for the single-process embedded mode, where PGlite
   * cannot serve the extra queue connections a scheduler and its consumer need.
   */
  lifecycleRunner: 'queue' | 'timer';
  connection: QueueConnectionOptions;
  logger: Logger;
  /** jobs completed, failed and their durations, by queue */
  metrics: JobMetrics;
  /** jobs processed at once per queue in this process */
  concurrency: number;
  /** seconds an idle consumer waits before polling (low on embedded PGlite, which has no NOTIFY) */
  drainDelay?: number;
  /** ms before the jobs of a worker that died go to another */
  lockDuration?: number;
  /**
   * How often this process looks for pending work whose job was lost and re-asserts the lifecycle
   * schedule: Postgres-driven, so it works even after Redis forgot everything. 0 turns it off.
   */
  reconcileEveryMs: number;
  /** pending rows untouched this long count as lost */
  pendingGraceMs: number;
}

/**
 * Runs the upload and delete consumers and the reconciler in this process. More processes scale it
 * out: nothing is local to one of them. `close()` lets in-flight jobs finish, and is safe twice.
 */
export function startWorkers(options: WorkerOptions): { close(): Promise<void> } {
  const { uploader, connection, logger, metrics, concurrency, drainDelay, lockDuration } = options;
  const consumers: {
    worker: { name: string; on(event: 'error', listener: (err: Error) => void): unknown };
    close(): Promise<void>;
  }[] = [
    createConsumer(
      UPLOAD_QUEUE,
      instrumented(UPLOAD_QUEUE, uploadProcessor(uploader, options.compactor, logger), metrics),
      connection,
      {
        concurrency,
        drainDelay,
        lockDuration,
      },
    ),
    createConsumer(DELETE_QUEUE, instrumented(DELETE_QUEUE, deleteProcessor(uploader, logger), metrics), connection, {
      concurrency,
      drainDelay,
      lockDuration,
    }),
  ];
  const { replicator } = options;
  if (replicator) {
    consumers.push(
      createConsumer(
        REPLICA_QUEUE,
        instrumented(REPLICA_QUEUE, replicaProcessor(replicator, logger), metrics),
        connection,
        { concurrency, drainDelay, lockDuration },
      ),
    );
  }
  if (options.lifecycleRunner === 'queue') {
    consumers.push(
      createConsumer(
        LIFECYCLE_QUEUE,
        instrumented(LIFECYCLE_QUEUE, lifecycleProcessor(options.lifecycle), metrics),
        connection,
        { concurrency: 1, drainDelay, lockDuration },
      ),
    );
  }
  for (const { worker } of consumers) {
    worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'worker error'));
  }

  let reconciling = false;
  const reconcile = async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      if (options.lifecycleRunner === 'queue') await options.jobs.scheduleLifecycle(options.lifecycleEveryMs);
      const found = await uploader.reconcile(options.pendingGraceMs);
      if (found.uploads || found.deletes) logger.info(found, 'reconciler re-enqueued work whose job was missing');
      const owed = replicator ? await replicator.reconcile(options.pendingGraceMs) : 0;
      if (owed) logger.info({ replica: owed }, 'reconciler re-enqueued objects the replica still owes');
    } catch (err) {
      logger.warn({ err }, 'reconcile pass failed; will try again');
    } finally {
      reconciling = false;
    }
  };
  const timer = options.reconcileEveryMs > 0 ? setInterval(reconcile, options.reconcileEveryMs) : undefined;
  timer?.unref();
  void reconcile();
  const lifecycleTimer =
    options.lifecycleRunner === 'timer'
      ? setInterval(
          () => options.lifecycle.runOnce().catch((err: unknown) => logger.warn({ err }, 'lifecycle pass failed')),
          options.lifecycleEveryMs,
        )
      : undefined;
  lifecycleTimer?.unref();

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        if (lifecycleTimer) clearInterval(lifecycleTimer);
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
