import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { observeS3Calls } from './observe-s3-calls.ts';
import type { S3BlobStoreOptions } from './s3-options.ts';

// The SDK's own default; the pool is shared by every upload and download of the store.
const MIN_SOCKETS = 50;

export function createS3Client(options: S3BlobStoreOptions): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: Math.max(MIN_SOCKETS, options.concurrency * 2) };
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint || undefined,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts,
    // Trailing checksums on streamed bodies are corrupted or refused by many S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Options for the SDK's NodeHttpHandler: requestTimeout runs until the response headers arrive.
    requestHandler: {
      requestTimeout: options.requestTimeoutMs,
      connectionTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    },
  });
  if (options.observer) observeS3Calls(client, options.observer);
  return client;
}
