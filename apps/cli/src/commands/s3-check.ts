import type { Config } from '@ctxvault/config';
import {
  BlobStoreError,
  type BucketSettings,
  createS3Client,
  ensureBucket,
  probeObject,
  type S3Sender,
} from '@ctxvault/storage';
import { s3StoreOptions } from '../s3-store-options.ts';
import { encryptionLine, failed, line, printReport, type ReportLine } from './s3-report.ts';

/** Failures that mean no S3 server answered at all, as opposed to one that said no. */
const UNANSWERED = new Set(['connection_refused', 'timeout']);

/**
 * Diagnoses the S3 settings step by step — endpoint, bucket (missing, access denied, wrong region),
 * a probe object's put/get/delete, its server-side encryption — and stops at the first failure.
 */
export async function diagnoseS3(
  client: S3Sender,
  settings: BucketSettings,
  pathPrefix: string,
): Promise<ReportLine[]> {
  const endpoint = `endpoint ${settings.endpoint || `of AWS S3 in ${settings.region}`}`;
  try {
    await ensureBucket(client, settings, { create: false });
  } catch (err) {
    if (err instanceof BlobStoreError && UNANSWERED.has(err.code)) return [failed(endpoint, err)];
    return [line('ok', `${endpoint} answers`), failed(`bucket "${settings.bucket}"`, err)];
  }
  const lines = [
    line('ok', `${endpoint} answers`),
    line('ok', `bucket "${settings.bucket}" exists and is reachable in region ${settings.region}`),
  ];
  try {
    const probe = await probeObject(client, settings, pathPrefix);
    return [
      ...lines,
      line('ok', `put, get and delete of a probe object (${probe.key})`),
      encryptionLine(settings, probe),
    ];
  } catch (err) {
    return [...lines, failed('probe object', err)];
  }
}

/** `ctxvault s3 check`: prints an ok line per working step, or the problem and the fix; exits 1 on a problem. */
export async function runS3Check(config: Config): Promise<void> {
  if (config.storage.type !== 's3')
    console.log(`storage.type is "${config.storage.type}"; checking the storage.s3 settings anyway`);
  const options = s3StoreOptions(config);
  const client = createS3Client(options);
  try {
    const lines = await diagnoseS3(client, options, config.storage.context_storage.s3_path_prefix);
    if (!printReport(lines)) process.exitCode = 1;
  } finally {
    client.destroy();
  }
}
