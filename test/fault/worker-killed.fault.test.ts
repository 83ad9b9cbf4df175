// A worker is killed with SIGKILL in the middle of multipart uploads of 20 large contexts, and a new
// worker is started: every accepted context ends stored and identical, nothing is left behind.

import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
// the worker's uploads are what is killed: large creates are staged for it, not written by the API
const suite = useSuite({
  env: {
    ...FAULT_SETTINGS,
    MCP_STORAGE_S3_CONCURRENCY: '1',
    MCP_QUEUE_CONCURRENCY: '4',
    MCP_STORAGE_S3_DIRECT_WRITES: 'false',
  },
});

it('SIGKILL mid-upload, then a new worker: 20 large contexts all stored, no orphans, no open uploads', async () => {
  await suite.app.worker.stop();
  const { sent, accepted } = await sendContexts(suite.app.url, 20, 12 * MiB);
  expect(accepted).toHaveLength(20);

  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  // wait until multipart uploads are under way, then kill the worker without warning
  await expect
    .poll(
      async () =>
        (await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }))).Uploads
          ?.length ?? 0,
      {
        timeout: 60_000,
        interval: 50,
      },
    )
    .toBeGreaterThan(0);
  await suite.app.worker.stop('SIGKILL');
  const leftBehind =
    (await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }))).Uploads?.length ??
    0;
  console.info(`worker killed with ${leftBehind} multipart upload(s) in flight`);
  expect(leftBehind).toBeGreaterThan(0);

  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, sent, accepted);
  expect(report).toMatchObject({ sent: 20, accepted: 20, stored: 20, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
