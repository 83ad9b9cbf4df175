import type { Config } from '@ctxvault/config';
import { startWorkers } from '@ctxvault/worker';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';
import { indexingStep, onShutdown, type ShutdownStep } from './lifecycle.ts';
import { workerOptions } from './worker-options.ts';

export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config, 'ctxvault-worker');
  const runtime = await openRuntime(config, logger);
  const workers = startWorkers(workerOptions(runtime, logger));
  const steps: ShutdownStep[] = [];
  if (config.metrics.worker_port > 0) {
    // the API's package (its routes and their schemas) is loaded only by a worker that serves metrics
    const { metricsRoutes, serveApi } = await import('@ctxvault/api');
    const server = await serveApi(metricsRoutes(runtime), config.server.host, config.metrics.worker_port);
    logger.info({ url: `${server.url}/metrics` }, 'worker metrics listening');
    steps.push({ name: 'metrics server', run: () => server.close(), timeoutMs: 5_000 });
  }
  logger.info({ queue: config.queue.backend, concurrency: config.queue.concurrency }, 'ctxvault worker running');
  onShutdown(logger, [
    { name: 'workers', run: () => workers.close(), timeoutMs: 30_000 },
    indexingStep(runtime.uploader),
    ...steps,
    { name: 'connections', run: () => runtime.close(), timeoutMs: 10_000 },
  ]);
}
