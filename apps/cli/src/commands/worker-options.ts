import type { WorkerOptions } from '@ctxvault/worker';
import type { Logger } from '../logger.ts';
import type { Runtime } from '../runtime.ts';

/** How often each worker looks for pending work whose job was lost (see startWorkers). */
const RECONCILE_EVERY_MS = 30_000;

export function workerOptions(runtime: Runtime, logger: Logger): WorkerOptions {
  return {
    uploader: runtime.uploader,
    compactor: runtime.compactor,
    lifecycle: runtime.lifecycle,
    replicator: runtime.replica?.replicator,
    jobs: runtime.jobs,
    lifecycleEveryMs: runtime.config.lifecycle.interval,
    lifecycleRunner: runtime.embedded ? 'timer' : 'queue',
    pendingGraceMs: runtime.config.lifecycle.pending_grace,
    connection: runtime.connection,
    logger,
    metrics: runtime.metrics,
    concurrency: runtime.config.queue.concurrency,
    // PGlite does not deliver NOTIFY, so idle workers poll often instead of waiting for it
    drainDelay: runtime.embedded ? 0.2 : undefined,
    lockDuration: runtime.config.queue.lock_duration,
    reconcileEveryMs: RECONCILE_EVERY_MS,
  };
}
