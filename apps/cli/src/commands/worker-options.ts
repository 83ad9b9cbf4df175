import type { WorkerOptions } from '@ctxvault/worker';
import type { Runtime } from '../runtime.ts';
import type { Logger } from '../logger.ts';

/** How often the reconciler looks for pending work whose job was lost. */
const RECONCILE_EVERY_MS = 30_000;

export function workerOptions(runtime: Runtime, logger: Logger): WorkerOptions {
  return {
    uploader: runtime.uploader,
    connection: runtime.connection,
    logger,
    metrics: runtime.metrics,
    concurrency: runtime.config.queue.concurrency,
    // PGlite does not deliver NOTIFY, so idle workers poll often instead of waiting for it
    drainDelay: runtime.embedded ? 0.2 : undefined,
    reconcileEveryMs: RECONCILE_EVERY_MS,
  };
}
