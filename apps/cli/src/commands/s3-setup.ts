import { parseArgs } from 'node:util';
import type { Config } from '@ctxvault/config';
import {
  ABORT_UPLOADS_RULE_ID,
  type AbortUploadsOutcome,
  type AbortUploadsRule,
  type BucketSettings,
  createS3Client,
  directoryOf,
  ensureAbortUploadsRule,
  ensureBucket,
  ensureVersioning,
  probeObject,
  type S3Sender,
} from '@ctxvault/storage';
import { s3StoreOptions } from '../s3-store-options.ts';
import { encryptionLine, failed, line, printReport, type ReportLine } from './s3-report.ts';

/** The flags of `ctxvault s3 setup`, as node:util parseArgs options. */
const S3_SETUP_FLAGS = {
  'create-bucket': { type: 'boolean' },
  versioning: { type: 'boolean' },
  'abort-after-days': { type: 'string' },
} as const;

export interface S3SetupOptions {
  createBucket: boolean;
  versioning: boolean;
  /** where ctxvault writes (storage.context_storage.s3_path_prefix) */
  pathPrefix: string;
  /** incomplete multipart uploads under the prefix are aborted by S3 this many days after they started */
  abortAfterDays: number;
}

type Step = [what: string, run: () => Promise<ReportLine>];

/** A backstop for the lifecycle job, long enough for any upload still in progress. */
const DEFAULT_ABORT_AFTER_DAYS = 7;

/**
 * Prepares the bucket: creates it if asked, adds the lifecycle rule that aborts incomplete multipart
 * uploads (merged with the bucket's other rules), enables versioning if asked, and proves that a
 * probe object comes back with the configured encryption. Stops at the first failure.
 */
export async function setUpS3(
  client: S3Sender,
  settings: BucketSettings,
  options: S3SetupOptions,
): Promise<ReportLine[]> {
  const steps: Step[] = [
    [
      `bucket "${settings.bucket}"`,
      async () => {
        const outcome = await ensureBucket(client, settings, { create: options.createBucket });
        return outcome === 'created'
          ? line('changed', `bucket "${settings.bucket}" created in region ${settings.region}`)
          : line('unchanged', `bucket "${settings.bucket}" exists`);
      },
    ],
    [
      `lifecycle rule ${ABORT_UPLOADS_RULE_ID}`,
      async () => {
        const rule = { prefix: directoryOf(options.pathPrefix), days: options.abortAfterDays };
        return ruleLine(rule, await ensureAbortUploadsRule(client, settings, rule));
      },
    ],
  ];
  if (options.versioning) {
    steps.push([
      'versioning',
      async () => {
        const outcome = await ensureVersioning(client, settings);
        return outcome.changed
          ? line('changed', `versioning enabled (was ${outcome.was})`)
          : line('unchanged', 'versioning is enabled');
      },
    ]);
  }
  steps.push([
    'server-side encryption',
    async () => encryptionLine(settings, await probeObject(client, settings, options.pathPrefix)),
  ]);

  const lines: ReportLine[] = [];
  for (const [what, run] of steps) {
    try {
      lines.push(await run());
    } catch (err) {
      lines.push(failed(what, err));
    }
    if (lines.at(-1)?.status === 'failed') break;
  }
  return lines;
}

/** `ctxvault s3 setup [--create-bucket] [--versioning] [--abort-after-days N]`; exits 1 when a step failed. */
export async function runS3Setup(config: Config, args: string[]): Promise<void> {
  const { values: flags } = parseArgs({ args, options: S3_SETUP_FLAGS });
  const abortAfterDays = Number(flags['abort-after-days'] ?? DEFAULT_ABORT_AFTER_DAYS);
  if (!Number.isInteger(abortAfterDays) || abortAfterDays < 1) {
    throw new Error(
      `--abort-after-days must be a whole number of days, at least 1; got "${flags['abort-after-days']}"`,
    );
  }
  if (config.storage.type !== 's3')
    console.log(`storage.type is "${config.storage.type}"; setting up the storage.s3 bucket anyway`);
  const options = s3StoreOptions(config);
  const client = createS3Client(options);
  try {
    const lines = await setUpS3(client, options, {
      createBucket: flags['create-bucket'] ?? false,
      versioning: flags.versioning ?? false,
      pathPrefix: config.storage.context_storage.s3_path_prefix,
      abortAfterDays,
    });
    if (!printReport(lines)) process.exitCode = 1;
  } finally {
    client.destroy();
  }
}

function ruleLine(rule: AbortUploadsRule, outcome: AbortUploadsOutcome): ReportLine {
  const what = `lifecycle rule ${ABORT_UPLOADS_RULE_ID}: aborts multipart uploads under "${rule.prefix}" left incomplete for ${rule.days} days`;
  switch (outcome.change) {
    case 'added':
      return line(
        'changed',
        `${what}: added${outcome.kept ? `; the bucket's ${outcome.kept} other rule(s) kept as they were` : ''}`,
      );
    case 'updated':
      return line('changed', `${what}: updated (was ${outcome.was.days} days under "${outcome.was.prefix}")`);
    case 'none':
      return line('unchanged', what);
    case 'covered':
      return line(
        'unchanged',
        `multipart uploads under "${rule.prefix}" are already aborted by lifecycle rule "${outcome.by}"; ${ABORT_UPLOADS_RULE_ID} not added`,
      );
  }
}
