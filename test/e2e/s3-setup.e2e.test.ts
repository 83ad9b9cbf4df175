// `ctxvault s3 setup` and `ctxvault s3 check`, run as the real CLI against the test S3 server.
// moto accepts any credentials and any region, so access denied and a wrong region are diagnosed
// in apps/cli/src/commands/s3-commands.test.ts against a fake that answers as AWS does.

import { randomBytes } from 'node:crypto';
import {
  DeleteBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, runCtxvault } from '../helpers/processes.ts';
import { testS3Client } from '../helpers/s3.ts';

const endpoint = inject('s3Endpoint');
const s3 = testS3Client(endpoint);
const buckets: string[] = [];

function newBucketName(): string {
  const name = `ctxvault-setup-${randomBytes(5).toString('hex')}`;
  buckets.push(name);
  return name;
}

function env(bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MCP_STORAGE_TYPE: 's3',
    MCP_STORAGE_S3_ENDPOINT: endpoint,
    MCP_STORAGE_S3_BUCKET: bucket,
    MCP_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    MCP_STORAGE_S3_REGION: 'us-east-1',
    MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'AES256',
    MCP_STORAGE_S3_MAX_ATTEMPTS: '1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...extra,
  };
}

async function lifecycleRules(bucket: string): Promise<LifecycleRule[]> {
  return (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
}

/** Every object version and delete marker left in the bucket. */
async function leftovers(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((entry) => `${entry.Key}@${entry.VersionId}`);
}

const ourRule = (days = 7): LifecycleRule => ({
  ID: 'ctxvault-abort-incomplete-multipart-uploads',
  Status: 'Enabled',
  Filter: { Prefix: 'contexts/' },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
});

afterAll(async () => {
  for (const bucket of buckets) await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  s3.destroy();
});

describe('ctxvault s3 setup', () => {
  it('refuses a missing bucket without --create-bucket, naming the fix', async () => {
    const bucket = newBucketName();
    const { code, output } = await runCtxvault(['s3', 'setup'], env(bucket));
    expect(code).toBe(1);
    expect(output).toContain(`FAIL     bucket "${bucket}": bucket "${bucket}" does not exist`);
    expect(output).toContain(
      `fix: create bucket ${bucket} or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET), or run \`ctxvault s3 setup --create-bucket\``,
    );
  });

  it('creates the bucket, adds the abort rule, enables versioning and verifies SSE; a second run changes nothing', async () => {
    const bucket = newBucketName();
    const first = await runCtxvault(['s3', 'setup', '--create-bucket', '--versioning'], env(bucket));
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`changed  bucket "${bucket}" created in region us-east-1`);
    expect(first.output).toMatch(
      /^changed {2}lifecycle rule ctxvault-abort-incomplete-multipart-uploads: aborts multipart uploads under "contexts\/" left incomplete for 7 days: added$/m,
    );
    expect(first.output).toContain('changed  versioning enabled (was off)');
    expect(first.output).toContain(
      'ok       server-side encryption: the probe object came back with AES256, as configured (HeadObject)',
    );

    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    expect(await lifecycleRules(bucket)).toEqual([expect.objectContaining(ourRule())]);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    // the probe object was deleted by version: no old version, no delete marker
    expect(await leftovers(bucket)).toEqual([]);

    const second = await runCtxvault(['s3', 'setup', '--create-bucket', '--versioning'], env(bucket));
    expect(second.code, second.output).toBe(0);
    expect(second.output).not.toContain('changed');
    expect(second.output).toContain(`in place bucket "${bucket}" exists`);
    expect(second.output).toContain('in place lifecycle rule ctxvault-abort-incomplete-multipart-uploads');
    expect(second.output).toContain('in place versioning is enabled');
    expect(await lifecycleRules(bucket)).toEqual([expect.objectContaining(ourRule())]);
    expect(await leftovers(bucket)).toEqual([]);
  });

  it("keeps the bucket's other lifecycle rules and updates its own", async () => {
    const bucket = newBucketName();
    await runCtxvault(['s3', 'setup', '--create-bucket'], env(bucket));
    const expireLogs: LifecycleRule = {
      ID: 'expire-logs',
      Status: 'Enabled',
      Filter: { Prefix: 'logs/' },
      Expiration: { Days: 30 },
    };
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [expireLogs, ourRule()] },
      }),
    );

    const { code, output } = await runCtxvault(['s3', 'setup', '--abort-after-days', '2'], env(bucket));
    expect(code, output).toBe(0);
    expect(output).toContain('left incomplete for 2 days: updated (was 7 days under "contexts/")');
    expect(await lifecycleRules(bucket)).toEqual([
      expect.objectContaining(expireLogs),
      expect.objectContaining(ourRule(2)),
    ]);
  });

  it('creates the bucket in the configured region and verifies aws:kms with the configured key', async () => {
    const bucket = newBucketName();
    const kms = env(bucket, {
      MCP_STORAGE_S3_REGION: 'eu-west-1',
      MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'aws:kms',
      MCP_STORAGE_S3_KMS_KEY_ID: 'ctxvault-test-key',
    });
    const { code, output } = await runCtxvault(['s3', 'setup', '--create-bucket'], kms);
    expect(code, output).toBe(0);
    expect(output).toContain(`bucket "${bucket}" created in region eu-west-1`);
    expect(output).toContain('came back with aws:kms with key ctxvault-test-key, as configured');
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint).toBe('eu-west-1');
  });

  it('refuses a bad --abort-after-days', async () => {
    const { code, output } = await runCtxvault(['s3', 'setup', '--abort-after-days', '0'], env(newBucketName()));
    expect(code).toBe(1);
    expect(output).toContain('--abort-after-days must be a whole number of days, at least 1; got "0"');
  });
});

describe('ctxvault s3 check', () => {
  it('prints an ok line for each working step', async () => {
    const bucket = newBucketName();
    await runCtxvault(['s3', 'setup', '--create-bucket'], env(bucket));
    const { code, output } = await runCtxvault(['s3', 'check'], env(bucket));
    expect(code, output).toBe(0);
    expect(output.trim().split('\n')).toEqual([
      `ok       endpoint ${endpoint} answers`,
      `ok       bucket "${bucket}" exists and is reachable in region us-east-1`,
      expect.stringMatching(
        /^ok {7}put, get and delete of a probe object \(contexts\/ctxvault-probe\/[0-9a-f-]{36}\)$/,
      ),
      'ok       server-side encryption: the probe object came back with AES256, as configured (HeadObject)',
    ]);
    expect(await leftovers(bucket)).toEqual([]);
  });

  it('exits non-zero on a missing bucket with the fix to try', async () => {
    const bucket = newBucketName();
    const { code, output } = await runCtxvault(['s3', 'check'], env(bucket));
    expect(code).toBe(1);
    expect(output).toContain(`ok       endpoint ${endpoint} answers`);
    expect(output).toContain(`FAIL     bucket "${bucket}": bucket "${bucket}" does not exist`);
    expect(output).toContain(`fix: create bucket ${bucket} or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET)`);
  });

  it('exits non-zero on a closed port with the connection refused fix', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { code, output } = await runCtxvault(
      ['s3', 'check'],
      env(newBucketName(), { MCP_STORAGE_S3_ENDPOINT: closed }),
    );
    expect(code).toBe(1);
    expect(output).toContain(`FAIL     endpoint ${closed}: cannot reach S3 at ${closed}`);
    expect(output).toContain(
      'fix: check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running',
    );
    expect(output).not.toContain('ok ');
  });
});
