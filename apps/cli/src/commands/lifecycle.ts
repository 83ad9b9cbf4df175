import type { VersionUploader } from '@ctxvault/core';
import type { Logger } from '../logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
  /** how long this step may take before shutdown moves on without it */
  timeoutMs: number;
}

/** how long a shutdown lets the search indexing a worker owes go on before leaving the rest to the lifecycle pass */
const INDEXING_GRACE_MS = 5_000;

/**
 * The shutdown step after the workers: the indexing the jobs left behind gets {@link INDEXING_GRACE_MS}
 * to finish, is then stopped before its next write, and the step ends when no index write is under
 * way (one batch may take seconds on a busy database), before the connections close.
 */
export function indexingStep(uploader: Pick<VersionUploader, 'closeIndexing'>): ShutdownStep {
  return {
    name: 'search indexing',
    run: () => uploader.closeIndexing(INDEXING_GRACE_MS),
    timeoutMs: INDEXING_GRACE_MS + 20_000,
  };
}

/**
 * On SIGINT or SIGTERM, runs the steps in order, each bounded by its timeout, so a step that
 * cannot finish (a worker blocked on a lost connection) never keeps the rest from closing cleanly.
 * In-flight requests and jobs get their step's time to finish. A second signal exits at once.
 */
export function onShutdown(logger: Logger, steps: ShutdownStep[]): void {
  let stopping = false;
  const handle = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    let clean = true;
    for (const step of steps) {
      const outcome = await within(step.timeoutMs, step.run());
      if (outcome !== 'done') {
        clean = false;
        logger.warn(
          { step: step.name, outcome: outcome === 'timeout' ? 'timed out' : String(outcome) },
          'shutdown step did not finish',
        );
      } else {
        logger.debug({ step: step.name }, 'closed');
      }
    }
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGINT', (s) => void handle(s));
  process.on('SIGTERM', (s) => void handle(s));
}

async function within(ms: number, work: Promise<void>): Promise<'done' | 'timeout' | unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([work.then(() => 'done' as const), timeout]);
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
  }
}
