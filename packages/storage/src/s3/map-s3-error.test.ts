import { NoSuchBucket, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { BlobNotFoundError } from '../errors/blob-not-found-error.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { mapS3Error, type S3ErrorContext } from './map-s3-error.ts';

const context: S3ErrorContext = { bucket: 'mcp-contexts', region: 'us-west-2', endpoint: 'http://localhost:4566' };
const metadata = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });

function serviceError(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: metadata(httpStatusCode),
    message: `${name} from S3`,
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code });
}

describe('mapS3Error', () => {
  it.each([
    ['ECONNREFUSED', networkError('ECONNREFUSED')],
    ['ENOTFOUND', networkError('ENOTFOUND')],
    // Node's happy-eyeballs connect reports every address tried in one AggregateError.
    ['AggregateError', Object.assign(new AggregateError([networkError('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' })],
  ])('maps %s to connection_refused, naming the endpoint setting', (_, err) => {
    const mapped = mapS3Error(err, context);
    expect(mapped).toMatchObject({ code: 'connection_refused', cause: err });
    expect(mapped.hint).toBe('check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running');
    expect(mapped.message).toContain('http://localhost:4566');
  });

  it.each(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'])(
    'maps %s to access_denied',
    (name) => {
      const mapped = mapS3Error(serviceError(name, 403), context);
      expect(mapped.code).toBe('access_denied');
      expect(mapped.hint).toBe("check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role's policy");
    },
  );

  it('maps a missing bucket (NoSuchBucket, or a 404 to HeadBucket) to no_such_bucket', () => {
    const noSuchBucket = new NoSuchBucket({ $metadata: metadata(404), message: 'The specified bucket does not exist' });
    for (const err of [noSuchBucket, serviceError('NotFound', 404)]) {
      const mapped = mapS3Error(err, context);
      expect(mapped.code).toBe('no_such_bucket');
      expect(mapped.hint).toBe('create bucket mcp-contexts or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET)');
    }
  });

  it('maps a missing object to BlobNotFoundError when the call was about one key', () => {
    const noSuchKey = new NoSuchKey({ $metadata: metadata(404), message: 'The specified key does not exist.' });
    for (const err of [noSuchKey, serviceError('NotFound', 404)]) {
      const mapped = mapS3Error(err, { ...context, key: 'contexts/ab/x/1.json' });
      expect(mapped).toBeInstanceOf(BlobNotFoundError);
      expect(mapped).toMatchObject({ code: 'not_found', key: 'contexts/ab/x/1.json', cause: err });
    }
  });

  it.each([
    ['PermanentRedirect', 301],
    ['AuthorizationHeaderMalformed', 400],
  ])('maps %s to wrong_region, naming the region setting', (name, status) => {
    const mapped = mapS3Error(serviceError(name, status), context);
    expect(mapped.code).toBe('wrong_region');
    expect(mapped.hint).toContain('storage.s3.region (MCP_STORAGE_S3_REGION)');
    expect(mapped.message).toContain('us-west-2');
  });

  it('maps a bodiless 400 or 301 naming another region in x-amz-bucket-region to wrong_region, naming that region', () => {
    for (const status of [301, 400]) {
      const err = Object.assign(serviceError('Unknown', status), {
        $response: { statusCode: status, headers: { 'x-amz-bucket-region': 'eu-central-1' } },
      });
      const mapped = mapS3Error(err, context);
      expect(mapped.code).toBe('wrong_region');
      expect(mapped.message).toContain('not in region us-west-2 but in eu-central-1');
    }
    const sameRegion = Object.assign(serviceError('Unknown', 400), {
      $response: { statusCode: 400, headers: { 'x-amz-bucket-region': 'us-west-2' } },
    });
    expect(mapS3Error(sameRegion, context).code).toBe('unknown');
  });

  it('maps timeouts of the HTTP handler and of S3 to timeout', () => {
    const handlerTimeout = Object.assign(new Error('request has exceeded the configured 30000 ms requestTimeout'), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    for (const err of [handlerTimeout, serviceError('RequestTimeout', 400)]) {
      expect(mapS3Error(err, context).code).toBe('timeout');
    }
  });

  it('maps ranges, preconditions and aborts', () => {
    expect(mapS3Error(serviceError('InvalidRange', 416), context).code).toBe('invalid_range');
    expect(mapS3Error(serviceError('PreconditionFailed', 412), context).code).toBe('object_changed');
    expect(mapS3Error(Object.assign(new Error('aborted'), { name: 'AbortError' }), context).code).toBe('aborted');
  });

  it.each([
    ['a reset socket', networkError('ECONNRESET')],
    ["a body cut off (Node's `aborted`)", Object.assign(new Error('aborted'), { code: 'ECONNRESET' })],
    ['a broken pipe', networkError('EPIPE')],
    ['a socket hang up', new Error('socket hang up')],
  ])('maps %s to connection_reset, naming the endpoint setting', (_, err) => {
    const mapped = mapS3Error(err, context);
    expect(mapped).toMatchObject({ code: 'connection_reset', cause: err });
    expect(mapped.message).toContain('http://localhost:4566');
    expect(mapped.hint).toContain('storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT)');
  });

  it.each([
    ['SlowDown', 503],
    ['ServiceUnavailable', 503],
    ['TooManyRequests', 429],
    ['Unknown', 503],
  ])('maps %s (HTTP %i) to throttled', (name, status) => {
    const mapped = mapS3Error(serviceError(name, status), context);
    expect(mapped.code).toBe('throttled');
    expect(mapped.hint).toContain('storage.s3.endpoint');
    expect(mapped.hint).toContain('storage.s3.max_attempts (MCP_STORAGE_S3_MAX_ATTEMPTS)');
  });

  it.each([
    ['InternalError', 500],
    ['BadGateway', 502],
  ])('maps %s (HTTP %i) to server_error', (name, status) => {
    const mapped = mapS3Error(serviceError(name, status), context);
    expect(mapped).toMatchObject({ code: 'server_error' });
    expect(mapped.message).toContain(`HTTP ${status}`);
  });

  it('keeps anything else as unknown with the original as cause, and passes BlobStoreErrors through', () => {
    const err = serviceError('MalformedXML', 400);
    expect(mapS3Error(err, context)).toMatchObject({ code: 'unknown', cause: err });
    expect(mapS3Error(err, context).message).toContain('HTTP 400');
    const already = new BlobStoreError('timeout', 'slow', 'hint');
    expect(mapS3Error(already, context)).toBe(already);
  });
});
