import type { Config } from '@ctxvault/config';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';

/** `ctxvault lifecycle --once`: one housekeeping pass in the foreground; prints what it did. */
export async function runLifecyclePass(config: Config, args: string[]): Promise<void> {
  if (!args.includes('--once')) {
    throw new Error(
      '`ctxvault lifecycle` runs one pass with --once; workers run it on a schedule (lifecycle.interval)',
    );
  }
  const logger = createLogger(config, 'ctxvault-lifecycle');
  const runtime = await openRuntime(config, logger);
  try {
    const counts = await runtime.lifecycle.runOnce();
    console.log(JSON.stringify(counts, null, 2));
  } finally {
    await runtime.close();
  }
}
