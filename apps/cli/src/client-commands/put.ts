import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Config } from '@ctxvault/config';
import { clientOf, operand, parseCommand, printJson, UsageError } from './client-options.ts';
import { ProgressBar } from './progress-bar.ts';

const USAGE = 'ctxvault put FILE [--format json|ndjson] [--wait] [--timeout SECONDS] [--url URL] [--tenant ID]';

/**
 * `ctxvault put FILE`: creates a context from a JSON document (as POST /contexts takes it) or an
 * NDJSON file (envelope line, then one item a line; `.ndjson`/`.jsonl` or `--format ndjson`), streamed from disk with a progress bar while
 * the server stages it; `--wait` then follows the upload to the blob store until it is stored.
 * Prints `{id, version, status, job_id}`.
 */
export async function runPut(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
    format: { type: 'string' },
  });
  const file = operand(positionals, 'FILE', USAGE);
  const timeoutSeconds = Number(values.timeout ?? 600);
  if (!(timeoutSeconds > 0)) throw new UsageError(`--timeout must be a number of seconds; got "${values.timeout}"`);
  const client = clientOf(config, values);
  const { size } = await stat(file);
  const staging = new ProgressBar('staging');
  const result = await client.uploadStream(createReadStream(file), contentTypeOf(file, values.format), {
    onProgress: (sent) => staging.update(sent, size),
  });
  staging.update(size, size);
  const written =
    result.state === 'stored'
      ? { id: result.context.id, version: result.context.version, status: 'stored', job_id: null }
      : { id: result.id, version: result.version, status: 'pending', job_id: result.job_id };
  if (values.wait && written.status === 'pending') {
    const uploading = new ProgressBar('uploading');
    await client.waitUntilStored(written.id, {
      timeout: timeoutSeconds * 1000,
      onProgress: ({ job }) => job?.progress && uploading.update(job.progress.bytes, job.progress.total),
    });
    written.status = 'stored';
  }
  printJson(written);
}

/** `--format`, else by extension: .ndjson / .jsonl are NDJSON, anything else a JSON document. */
function contentTypeOf(file: string, format: string | undefined): 'application/json' | 'application/x-ndjson' {
  if (format !== undefined && format !== 'json' && format !== 'ndjson')
    throw new UsageError(`--format must be json or ndjson; got "${format}"`);
  const ndjson = format ? format === 'ndjson' : /\.(ndjson|jsonl)$/i.test(file);
  return ndjson ? 'application/x-ndjson' : 'application/json';
}
