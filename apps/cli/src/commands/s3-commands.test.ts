// moto accepts any credentials and ignores regions, so access denied and wrong region are
// diagnosed here against a fake S3 client that answers as AWS S3 does; test/e2e/s3-setup.e2e.test.ts
// runs the real commands against moto for the rest.
import type { BucketSettings, S3Sender } from '@ctxvault/storage';
import { describe, expect, it } from 'vitest';
import { diagnoseS3 } from './s3-check.ts';
import { printReport, type ReportLine } from './s3-report.ts';
import { setUpS3 } from './s3-setup.ts';

const settings: BucketSettings = { bucket: 'mcp-contexts', region: 'us-west-2', serverSideEncryption: 'AES256' };

/** An error shaped as the SDK's S3ServiceException for what AWS answers (HEAD answers have no body). */
function awsError(name: string, httpStatusCode: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(name), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode },
    $response: { statusCode: httpStatusCode, headers },
  });
}

/**
 * A fake S3: `answer` decides per command (by class name) what to throw or return; objects put are
 * kept so that the probe reads back what it wrote.
 */
function fakeS3(answer: (command: string) => unknown = () => undefined) {
  const objects = new Map<string, Uint8Array>();
  const sent: { name: string; input: unknown }[] = [];
  const send = async (command: { constructor: { name: string }; input: { Key?: string; Body?: Uint8Array } }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    sent.push({ name, input: command.input });
    const answered = answer(name);
    if (answered instanceof Error) throw answered;
    if (answered !== undefined) return answered;
    if (name === 'PutObject') objects.set(command.input.Key!, command.input.Body!);
    if (name === 'GetObject') return { Body: { transformToByteArray: async () => objects.get(command.input.Key!) } };
    if (name === 'HeadObject') return { ServerSideEncryption: 'AES256' };
    return {};
  };
  return {
    send: send as unknown as S3Sender['send'],
    sent: () => sent.map((command) => command.name),
    inputs: (name: string) => sent.filter((command) => command.name === name).map((command) => command.input),
  };
}

function report(lines: ReportLine[]): { ok: boolean; text: string } {
  const out: string[] = [];
  const ok = printReport(lines, (text) => out.push(text));
  return { ok, text: out.join('\n') };
}

describe('s3 check diagnosis', () => {
  it('says every step works on a healthy bucket', async () => {
    const { ok, text } = report(await diagnoseS3(fakeS3(), settings, 'contexts'));
    expect(ok).toBe(true);
    expect(text.split('\n').map((line) => line.split(' ')[0])).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(text).toContain('came back with AES256, as configured');
  });

  it('diagnoses access denied on the bucket with the credentials fix', async () => {
    const { ok, text } = report(
      await diagnoseS3(
        fakeS3((c) => c === 'HeadBucket' && awsError('Forbidden', 403)),
        settings,
        'contexts',
      ),
    );
    expect(ok).toBe(false);
    expect(text).toMatch(/^ok {7}endpoint of AWS S3 in us-west-2 answers$/m);
    expect(text).toMatch(/^FAIL {5}bucket "mcp-contexts": S3 refused access to bucket "mcp-contexts"/m);
    expect(text).toContain("fix: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role's policy");
  });

  it('diagnoses access denied on writes once the bucket answers', async () => {
    const s3 = fakeS3((c) => c === 'PutObject' && awsError('AccessDenied', 403));
    const { ok, text } = report(await diagnoseS3(s3, settings, 'contexts'));
    expect(ok).toBe(false);
    expect(text).toMatch(/^ok {7}bucket "mcp-contexts" exists/m);
    expect(text).toMatch(
      /^FAIL {5}probe object: put of probe object contexts\/ctxvault-probe\/[0-9a-f-]{36}: S3 refused access/m,
    );
    expect(text).toContain("fix: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role's policy");
  });

  it.each([
    ['a bodiless 301 to HeadBucket', awsError('Unknown', 301, { 'x-amz-bucket-region': 'eu-central-1' })],
    ['a bodiless 400 to HeadBucket', awsError('Unknown', 400, { 'x-amz-bucket-region': 'eu-central-1' })],
  ])("diagnoses a wrong region from %s, naming the bucket's region", async (_, error) => {
    const { ok, text } = report(
      await diagnoseS3(
        fakeS3((c) => c === 'HeadBucket' && error),
        settings,
        'contexts',
      ),
    );
    expect(ok).toBe(false);
    expect(text).toContain('bucket "mcp-contexts" is not in region us-west-2 but in eu-central-1');
    expect(text).toContain("fix: fix storage.s3.region (MCP_STORAGE_S3_REGION) to the bucket's region");
  });

  it('diagnoses a wrong region from PermanentRedirect on a write', async () => {
    const { text } = report(
      await diagnoseS3(
        fakeS3((c) => c === 'PutObject' && awsError('PermanentRedirect', 301)),
        settings,
        '',
      ),
    );
    expect(text).toMatch(/^FAIL {5}probe object: put of probe object ctxvault-probe\/.*is not in region us-west-2/m);
    expect(text).toContain('storage.s3.region (MCP_STORAGE_S3_REGION)');
  });

  it('diagnoses an unreachable endpoint in one line, with the endpoint fix', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const lines = await diagnoseS3(
      fakeS3(() => refused),
      { ...settings, endpoint: 'http://127.0.0.1:9' },
      'contexts',
    );
    const { ok, text } = report(lines);
    expect(ok).toBe(false);
    expect(lines).toHaveLength(1);
    expect(text).toMatch(/^FAIL {5}endpoint http:\/\/127\.0\.0\.1:9: cannot reach S3 at http:\/\/127\.0\.0\.1:9/);
    expect(text).toContain(
      'fix: check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running',
    );
  });

  it('fails when the probe object does not come back with the configured encryption', async () => {
    const s3 = fakeS3((c) => (c === 'HeadObject' ? {} : undefined));
    const { ok, text } = report(await diagnoseS3(s3, settings, 'contexts'));
    expect(ok).toBe(false);
    expect(text).toContain('server-side encryption: asked for AES256, the object came back with no encryption');
    expect(s3.sent().at(-1)).toBe('DeleteObject');
  });

  it('accepts the ARN S3 reports for a KMS key configured by id', async () => {
    const kms: BucketSettings = { ...settings, serverSideEncryption: 'aws:kms', kmsKeyId: '1234abcd-12ab' };
    const arn = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab';
    const answer = (key: string) => (c: string) =>
      c === 'HeadObject' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key } : undefined;
    expect(report(await diagnoseS3(fakeS3(answer(arn)), kms, 'contexts')).ok).toBe(true);
    const other = report(
      await diagnoseS3(fakeS3(answer('arn:aws:kms:us-west-2:111122223333:key/other')), kms, 'contexts'),
    );
    expect(other.text).toContain('asked for KMS key 1234abcd-12ab');
  });
});

describe('s3 setup steps', () => {
  it('stops at the first failing step and names its fix', async () => {
    const s3 = fakeS3((c) =>
      c === 'GetBucketLifecycleConfiguration'
        ? awsError('NoSuchLifecycleConfiguration', 404)
        : c === 'PutBucketLifecycleConfiguration' && awsError('AccessDenied', 403),
    );
    const lines = await setUpS3(s3, settings, {
      createBucket: false,
      versioning: true,
      pathPrefix: 'contexts',
      abortAfterDays: 7,
    });
    const { ok, text } = report(lines);
    expect(ok).toBe(false);
    expect(lines.map((line) => line.status)).toEqual(['unchanged', 'failed']);
    expect(text).toContain('lifecycle rule ctxvault-abort-incomplete-multipart-uploads: S3 refused access');
    expect(s3.sent()).not.toContain('PutBucketVersioning');
    expect(s3.sent()).not.toContain('PutObject');
  });

  it('creates a missing bucket with its region as LocationConstraint outside us-east-1', async () => {
    const s3 = fakeS3((c) =>
      c === 'HeadBucket'
        ? awsError('NotFound', 404)
        : c === 'GetBucketLifecycleConfiguration'
          ? awsError('NoSuchLifecycleConfiguration', 404)
          : undefined,
    );
    const lines = await setUpS3(s3, settings, {
      createBucket: true,
      versioning: false,
      pathPrefix: 'contexts',
      abortAfterDays: 7,
    });
    expect(lines.map((line) => line.status)).toEqual(['changed', 'changed', 'ok']);
    expect(s3.inputs('CreateBucket')).toEqual([
      { Bucket: 'mcp-contexts', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } },
    ]);
  });
});
