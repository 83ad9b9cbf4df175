// The S3 server is unreachable for 20 s during ingest (a proxy in front of it refuses and cuts
// connections; moto itself keeps its state), then comes back: nothing accepted is lost.
import { afterAll, expect, it } from 'vitest';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { useSuite } from '../helpers/suite.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const MiB = 1024 * 1024;
let s3: TcpProxy;
afterAll(() => s3?.close());
const suite = useSuite({
  env: FAULT_SETTINGS,
  services: async (direct) => {
    const target = new URL(direct.s3Endpoint);
    s3 = await startTcpProxy(target.hostname, Number(target.port));
    return { ...direct, s3Endpoint: s3.url('http') };
  },
});

it('S3 down for 20 s during ingest: every accepted context ends stored, no orphans, no open uploads', async () => {
  const first = sendContexts(suite.app.url, 12, 6 * MiB);
  await new Promise((r) => setTimeout(r, 1500));
  await s3.stop();
  const outage = new Promise((r) => setTimeout(r, 20_000));
  // writes keep being accepted while S3 is away: bodies wait in staging
  const during = await sendContexts(suite.app.url, 4, 1 * MiB);
  expect(during.accepted).toHaveLength(4);
  await outage;
  await s3.start();
  const before = await first;
  const accepted = [...before.accepted, ...during.accepted];
  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, before.sent + during.sent, accepted);
  expect(report).toMatchObject({ sent: 16, accepted: 16, stored: 16, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
