import { BlobStoreError, type BucketSettings, encryptionMismatch, type ProbeResult } from '@ctxvault/storage';

/** One line of what `s3 setup` or `s3 check` found; a failed one says what to try. */
export type ReportLine =
  | { status: 'ok' | 'changed' | 'unchanged'; text: string }
  | { status: 'failed'; text: string; fix: string };

const LABELS = { ok: 'ok', changed: 'changed', unchanged: 'in place', failed: 'FAIL' } as const;

export const line = (status: 'ok' | 'changed' | 'unchanged', text: string): ReportLine => ({ status, text });

/** A failed step. A BlobStoreError carries the fix to try; anything else is a bug and is thrown on. */
export function failed(what: string, err: unknown): ReportLine {
  if (!(err instanceof BlobStoreError)) throw err;
  const fix = err.code === 'no_such_bucket' ? `${err.hint}, or run \`ctxvault s3 setup --create-bucket\`` : err.hint;
  return { status: 'failed', text: `${what}: ${err.message}`, fix };
}

/** Whether the probe object came back encrypted as `storage.s3.server_side_encryption` asks. */
export function encryptionLine(settings: BucketSettings, probe: ProbeResult): ReportLine {
  const mismatch = encryptionMismatch(settings, probe);
  if (mismatch) {
    return {
      status: 'failed',
      text: `server-side encryption: ${mismatch}`,
      fix: 'check the bucket policy and default encryption, storage.s3.server_side_encryption (MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION) and storage.s3.kms_key_id (MCP_STORAGE_S3_KMS_KEY_ID)',
    };
  }
  if (settings.serverSideEncryption === '') {
    return line(
      'ok',
      `server-side encryption: none configured; the probe object came back with ${probe.encryption ?? 'none'} (the bucket's default)`,
    );
  }
  const key = settings.serverSideEncryption === 'aws:kms' && probe.kmsKeyId ? ` with key ${probe.kmsKeyId}` : '';
  return line(
    'ok',
    `server-side encryption: the probe object came back with ${probe.encryption}${key}, as configured (HeadObject)`,
  );
}

/** Prints the lines; returns whether none failed. */
export function printReport(lines: ReportLine[], write: (text: string) => void = console.log): boolean {
  for (const entry of lines) {
    write(`${LABELS[entry.status].padEnd(9)}${entry.text}`);
    if (entry.status === 'failed') write(`${' '.repeat(9)}fix: ${entry.fix}`);
  }
  return lines.every((entry) => entry.status !== 'failed');
}
