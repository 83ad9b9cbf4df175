import type { Config } from '@ctxvault/config';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';
import { onShutdown } from './lifecycle.ts';
import { serveRuntime } from './serve.ts';

export async function runApi(config: Config): Promise<void> {
  const logger = createLogger(config, 'ctxvault-api', { serving: true });
  // the API counts at most tokens.inline_count_bytes of a write, and windows of uncounted items: one thread
  const runtime = await openRuntime(config, logger, { countingThreads: 1 });
  const server = await serveRuntime(runtime, logger);
  logger.info({ url: server.url }, `ctxvault API listening on ${server.url}/api/v1`);
  onShutdown(logger, [
    { name: 'http server', run: () => server.close(), timeoutMs: 10_000 },
    { name: 'connections', run: () => runtime.close(), timeoutMs: 10_000 },
  ]);
}
