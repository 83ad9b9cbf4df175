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
 * `pathStyle`, a client with path-style addressing, is given when the settings use virtual-host
 * addressing on a custom endpoint: if the server answers only to it, the fix is `force_path_style`.
 */
export async function diagnoseS3(
  client: S3Sender,
  settings: BucketSettings,
  pathPrefix: string,
  pathStyle?: S3Sender,
): Promise<ReportLine[]> {
  const endpoint = `endpoint ${settings.endpoint || `of AWS S3 in ${settings.region}`}`;
  try {
    await ensureBucket(client, settings, { create: false });
  } catch (err) {
    if (pathStyle && (await reachable(pathStyle, settings))) return [pathStyleOnly(endpoint, settings, err)];
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

/** Whether the bucket answers through this client. */
async function reachable(client: S3Sender, settings: BucketSettings): Promise<boolean> {
  try {
    await ensureBucket(client, settings, { create: false });
    return true;
  } catch {
    return false;
  }
}

/** Virtual-host addressing (`<bucket>.<host>`) failed where path-style (`<host>/<bucket>`) works. */
function pathStyleOnly(endpoint: string, settings: BucketSettings, err: unknown): ReportLine {
  const { text } = failed(endpoint, err) as { text: string };
  return {
    status: 'failed',
    text: `${text} (virtual-host addressing, ${settings.bucket}.<host>)`,
    fix: 'the bucket answers path-style requests (<host>/<bucket>): set storage.s3.force_path_style: true (MCP_STORAGE_S3_FORCE_PATH_STYLE), as most S3-compatible servers need',
  };
}

/** `ctxvault s3 check`: prints an ok line per working step, or the problem and the fix; exits 1 on a problem. */
export async function runS3Check(config: Config): Promise<void> {
  if (config.storage.type !== 's3')
    console.log(`storage.type is "${config.storage.type}"; checking the storage.s3 settings anyway`);
  const options = s3StoreOptions(config);
  const client = createS3Client(options);
  // on a custom endpoint, virtual-host addressing often fails (no DNS for <bucket>.<host>): try path style too
  const pathStyle =
    options.endpoint && !options.forcePathStyle ? createS3Client({ ...options, forcePathStyle: true }) : undefined;
  try {
    const lines = await diagnoseS3(client, options, config.storage.context_storage.s3_path_prefix, pathStyle);
    if (!printReport(lines)) process.exitCode = 1;
  } finally {
    client.destroy();
    pathStyle?.destroy();
  }
}
