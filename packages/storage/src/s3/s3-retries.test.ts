// Throttling and 5xx answers are retried with backoff up to storage.s3.max_attempts: a proxy in
// front of moto answers 503 SlowDown to the first requests it sees, then forwards the rest.

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readAll } from '../blob-store.contract.ts';
import { S3BlobStore } from './s3-blob-store.ts';

const MiB = 1024 * 1024;
const target = new URL(inject('s3Endpoint'));
const bucket = `ctxvault-retries-${randomUUID()}`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const admin = new S3Client({ region: 'us-east-1', endpoint: target.toString(), forcePathStyle: true, credentials });

let proxy: Server;
let proxyUrl: string;
let failNext = 0;
let refused = 0;

beforeAll(async () => {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  proxy = createServer((req, res) => {
    if (failNext > 0) {
      failNext--;
      refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as { port: number };
  proxyUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  proxy?.close();
  await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'retried/one' })).catch(() => {});
  await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
});

function store(maxAttempts: number) {
  return new S3BlobStore({
    region: 'us-east-1',
    bucket,
    endpoint: proxyUrl,
    forcePathStyle: true,
    serverSideEncryption: '',
    uploadPartSize: 5 * MiB,
    downloadPartSize: 5 * MiB,
    concurrency: 2,
    requestTimeoutMs: 10_000,
    maxAttempts,
    credentials,
  });
}

describe('S3 retries', () => {
  it('retries 503 SlowDown with backoff and succeeds within max_attempts', async () => {
    const s3 = store(4);
    const body = randomBytes(64 * 1024);
    failNext = 2;
    refused = 0;
    await s3.put('retried/one', body);
    expect(refused).toBe(2);
    failNext = 2;
    expect((await readAll(await s3.get('retried/one'))).equals(body)).toBe(true);
    expect(refused).toBe(4);
    await s3.close();
  });

  it('gives up after max_attempts with an error naming the cause', async () => {
    const s3 = store(2);
    failNext = 5;
    refused = 0;
    await expect(s3.put('retried/two', randomBytes(1024))).rejects.toThrow(/SlowDown|reduce your request rate|503/i);
    expect(refused).toBe(2);
    failNext = 0;
    await s3.close();
  });
});
