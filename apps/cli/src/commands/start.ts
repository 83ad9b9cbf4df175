import type { Config } from '@ctxvault/config';
import { startWorkers } from '@ctxvault/worker';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';
import { indexingStep, onShutdown } from './lifecycle.ts';
import { serveRuntime } from './serve.ts';
import { workerOptions } from './worker-options.ts';

/** API and worker in one process; with no database.url, on embedded PGlite and local disk. */
export async function runStart(config: Config): Promise<void> {
  const logger = createLogger(config, 'ctxvault', { serving: true });
  const runtime = await openRuntime(config, logger, { migrate: true, allowEmbedded: true });
  const workers = startWorkers(workerOptions(runtime, logger));
  const server = await serveRuntime(runtime, logger);
  logger.info(
    { url: server.url, embedded: runtime.embedded, storage: config.storage.type, queue: config.queue.backend },
    `ctxvault is ready: send requests to ${server.url}/api/v1/contexts`,
  );
  onShutdown(logger, [
    { name: 'http server', run: () => server.close(), timeoutMs: 10_000 },
    // on embedded PGlite a worker's blocking wait may never return; closing the databases ends it
    { name: 'workers', run: () => workers.close(), timeoutMs: runtime.embedded ? 2_000 : 30_000 },
    indexingStep(runtime.uploader),
    { name: 'connections', run: () => runtime.close(), timeoutMs: 10_000 },
  ]);
}
