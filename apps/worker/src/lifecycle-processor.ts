import type { LifecycleCounts, LifecycleService } from '@ctxvault/core';

/** The scheduled housekeeping pass; its counts are the job's result (and logged by the service). */
export function lifecycleProcessor(lifecycle: LifecycleService) {
  return async function processLifecycle(): Promise<LifecycleCounts> {
    return lifecycle.runOnce();
  };
}
