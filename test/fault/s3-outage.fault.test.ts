// The S3 server is unreachable for 20 s during ingest (a proxy in front of it refuses and cuts
// connections; moto itself keeps its state), then comes back: nothing accepted is lost. Creates of
// more than a part go straight to S3: one whose upload S3 refuses from the start is staged instead
// (accepted), one whose upload breaks after its first part is refused (503 naming the blob store).
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
  // writes keep being accepted while S3 is away: bodies wait in staging, small ones and those that
  // would have gone straight to S3
  const during = [await sendContexts(suite.app.url, 2, 1 * MiB), await sendContexts(suite.app.url, 2, 6 * MiB)];
  expect(during.flatMap((d) => d.accepted)).toHaveLength(4);
  await outage;
  await s3.start();
  const before = await first;
  // those cut off midway were told so truthfully, never accepted and lost
  for (const refused of before.refused) expect(refused).toEqual({ status: 503, code: 'blob_store_unavailable' });
  expect(before.accepted.length).toBeGreaterThan(0);
  const accepted = [...before.accepted, ...during.flatMap((d) => d.accepted)];
  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, 16, accepted);
  const n = accepted.length;
  expect(report).toMatchObject({ sent: 16, accepted: n, stored: n, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
