import type { Config } from '@ctxvault/config';
import { startWorkers } from '@ctxvault/worker';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';
import { onShutdown } from './lifecycle.ts';
import { workerOptions } from './worker-options.ts';

export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config, 'ctxvault-worker');
  const runtime = await openRuntime(config, logger);
  const workers = startWorkers(workerOptions(runtime, logger));
  logger.info({ queue: config.queue.backend, concurrency: config.queue.concurrency }, 'ctxvault worker running');
  onShutdown(logger, [
    { name: 'workers', run: () => workers.close(), timeoutMs: 30_000 },
    { name: 'connections', run: () => runtime.close(), timeoutMs: 10_000 },
  ]);
}
