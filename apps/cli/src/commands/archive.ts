import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { Config } from '@ctxvault/config';
import { encodedArchive } from '@ctxvault/core';
import { UsageError } from '../client-commands/client-options.ts';
import { ProgressBar } from '../client-commands/progress-bar.ts';
import { createLogger } from '../logger.ts';
import { openRuntime } from '../runtime.ts';

/**
 * `ctxvault export [--tenant T] [--agent-id A] [--since TIME] [--versions current|all] [--zstd] > FILE`:
 * writes the archive of the contexts (docs/archive-format.md) to stdout, with a progress bar on stderr.
 */
export async function runExport(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      'agent-id': { type: 'string' },
      since: { type: 'string' },
      versions: { type: 'string', default: 'current' },
      zstd: { type: 'boolean', default: false },
    },
  });
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since && Number.isNaN(since.getTime()))
    throw new UsageError(`--since must be a time (ISO 8601); got "${values.since}"`);
  if (values.versions !== 'current' && values.versions !== 'all') {
    throw new UsageError(`--versions must be current or all; got "${values.versions}"`);
  }
  const versions = values.versions;
  if (process.stdout.isTTY)
    throw new UsageError('the archive goes to stdout: redirect it to a file (ctxvault export > FILE)');
  const runtime = await openRuntime(config, createLogger(config, 'ctxvault-export'));
  try {
    const bar = new ProgressBar('exporting', process.stderr, 'contexts');
    const records = runtime.archive.exporter.export({
      tenant_id: values.tenant,
      agent_id: values['agent-id'],
      since,
      versions,
      onProgress: (done, total) => bar.update(done, total),
    });
    await pipeline(encodedArchive(records, values.zstd ? 'zstd' : 'identity'), process.stdout);
  } finally {
    await runtime.close();
  }
}

/**
 * `ctxvault import FILE [--tenant T]`: writes the contexts of an archive (plain or compressed) into
 * this deployment, with a progress bar; prints what it did as JSON. Exits 1 when a context was in
 * conflict or could not be written (the others are written); running it again changes nothing.
 */
export async function runImport(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { tenant: { type: 'string' } } });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('usage: ctxvault import FILE [--tenant T]');
  const { size } = await stat(file);
  const runtime = await openRuntime(config, createLogger(config, 'ctxvault-import'));
  try {
    const bar = new ProgressBar('importing');
    const input = createReadStream(file);
    let read = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of input) {
        read += (chunk as Buffer).length;
        bar.update(read, size);
        yield chunk as Buffer;
      }
    }
    const report = await runtime.archive.importer.import(counted(), {
      tenantId: values.tenant,
    });
    bar.update(size, size);
    console.log(JSON.stringify(report, null, 2));
    if (report.conflicts.length || report.failed.length) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

/**
 * `ctxvault rebuild --from-bucket`: recreates the references of every context from the objects of
 * the bucket (docs/disaster-recovery.md), with a progress bar; prints what it did and what it could
 * not rebuild, and why, as JSON; exits 1 when something could not be rebuilt. Safe to run again.
 */
export async function runRebuild(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'from-bucket': { type: 'boolean', default: false } } });
  if (!values['from-bucket']) throw new UsageError('usage: ctxvault rebuild --from-bucket');
  const runtime = await openRuntime(config, createLogger(config, 'ctxvault-rebuild'));
  try {
    const bar = new ProgressBar('rebuilding', process.stderr, 'contexts');
    const report = await runtime.archive.rebuilder.run((done, total) => bar.update(done, total));
    console.log(JSON.stringify(report, null, 2));
    if (report.failed.length) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
