import { parseArgs } from 'node:util';
import type { Config } from '@ctxvault/config';
import { verifyReplica } from '@ctxvault/core';
import { ProgressBar } from '../client-commands/progress-bar.ts';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';

/**
 * `ctxvault replica verify [--repair]`: compares every object of the primary store with the
 * replica (storage.replica) and prints what differs as JSON; with --repair also makes them agree.
 * Exits 1 when differences remain, so a scheduled check can alert.
 */
export async function runReplicaVerify(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { repair: { type: 'boolean', default: false } } });
  if (!config.storage.replica.bucket) {
    throw new Error('no replica is configured: set storage.replica.bucket (MCP_STORAGE_REPLICA_BUCKET)');
  }
  const logger = createLogger(config, 'ctxvault-replica');
  const runtime = await openRuntime(config, logger);
  try {
    const replica = runtime.replica;
    if (!replica) throw new Error('the runtime opened no replica');
    const bar = new ProgressBar(values.repair ? 'repairing' : 'verifying', process.stderr, 'objects');
    const report = await verifyReplica({
      primary: replica.primary,
      replica: replica.store,
      log: replica.log,
      prefix: `${config.storage.context_storage.s3_path_prefix}/`,
      repair: values.repair,
      onProgress: (done, total) => bar.update(done, total),
    });
    console.log(JSON.stringify(report, null, 2));
    const differences = report.missing + report.differing + report.lost_on_primary + report.extra;
    if (differences > report.repaired) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
