// `s3 check` against a real S3 server (moto): virtual-host addressing on a custom endpoint fails
// (no DNS for <bucket>.localhost), path style works, so the fix it prints is force_path_style.
import { createS3Client, type S3BlobStoreOptions } from '@ctxvault/storage';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestBucket, TEST_CREDENTIALS, type TestBucket } from '../../../../test/helpers/s3.ts';
import { diagnoseS3 } from './s3-check.ts';
import { printReport } from './s3-report.ts';

let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket(inject('s3Endpoint'));
});
afterAll(async () => {
  await bucket?.drop();
});

function options(forcePathStyle: boolean): S3BlobStoreOptions {
  const endpoint = new URL(inject('s3Endpoint'));
  endpoint.hostname = 'localhost';
  return {
    region: 'us-east-1',
    bucket: bucket.name,
    endpoint: endpoint.origin,
    forcePathStyle,
    serverSideEncryption: '',
    uploadPartSize: 5 * 1024 * 1024,
    downloadPartSize: 5 * 1024 * 1024,
    concurrency: 1,
    requestTimeoutMs: 5_000,
    maxAttempts: 1,
    credentials: TEST_CREDENTIALS,
  };
}

it('suggests force_path_style when virtual-host addressing fails and path style works', async () => {
  const virtualHost = createS3Client(options(false));
  const pathStyle = createS3Client(options(true));
  try {
    const out: string[] = [];
    const ok = printReport(await diagnoseS3(virtualHost, options(false), 'contexts', pathStyle), (t) => out.push(t));
    expect(ok).toBe(false);
    expect(out.join('\n')).toContain('fix: the bucket answers path-style requests');
    expect(out.join('\n')).toContain('storage.s3.force_path_style: true (MCP_STORAGE_S3_FORCE_PATH_STYLE)');

    const fixed: string[] = [];
    expect(printReport(await diagnoseS3(pathStyle, options(true), 'contexts'), (t) => fixed.push(t))).toBe(true);
  } finally {
    virtualHost.destroy();
    pathStyle.destroy();
  }
});
