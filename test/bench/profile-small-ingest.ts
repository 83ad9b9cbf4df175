// One-off: small NDJSON ingests one after the other, each timed POST → 202 → `stored` (polled every
// 10 ms, as the bench polls) and followed by a bare lib-storage Upload of the same body, so their
// ratio is taken within one run; more runs than the bench's two, for a median on a busy machine.
// With another checkout (built), its api and worker run beside this one's on the same database and
// bucket (their own queue prefix) and the ingests alternate between the two: a same-run A/B.
// Usage: tsx test/bench/profile-small-ingest.ts [MiB] [runs] [other checkout]
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { bearer, useCredentials } from '../helpers/credentials.ts';
import { freePort, spawnCtxvault } from '../helpers/processes.ts';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mib = '1', runs = '20', other] = process.argv.slice(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Target {
  name: string;
  url: string;
  acks: number[];
  stored: number[];
  ratios: number[];
}

await withProfiledDeployment(
  '/tmp/prof',
  {},
  async (dep, _databaseUrl, bucket) => {
    const targets: Target[] = [{ name: 'this checkout', url: dep.url, acks: [], stored: [], ratios: [] }];
    const stops: (() => Promise<void>)[] = [];
    if (other) {
      const port = await freePort();
      const env = {
        ...dep.env,
        MCP_SERVER_PORT: String(port),
        MCP_QUEUE_PREFIX: `ab-${randomBytes(4).toString('hex')}`,
      };
      const cli = path.resolve(other, 'apps/cli/dist/main.js');
      const procs = await Promise.all([
        spawnCtxvault('api', env, { readyLine: /API listening/, cli }),
        spawnCtxvault('worker', env, { readyLine: /worker running/, cli }),
      ]);
      stops.push(() => Promise.all(procs.map((p) => p.stop())).then(() => {}));
      const url = `http://127.0.0.1:${port}`;
      useCredentials(url, bearer(dep.key));
      targets.push({ name: other, url, acks: [], stored: [], ratios: [] });
    }
    try {
      const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' });
      for (let run = 0; run < Number(runs); run++) {
        for (const target of run % 2 ? [...targets].reverse() : targets) await ingest(target, body, bucket, run);
      }
    } finally {
      for (const stop of stops) await stop();
    }
    for (const t of targets) {
      console.log(
        `${t.name}: ${runs} ingests of ${mib} MiB, medians: 202 after ${median(t.acks).toFixed(1)} ms, stored after ` +
          `${median(t.stored).toFixed(1)} ms; speed / the bare Upload's ${median(t.ratios).toFixed(2)}`,
      );
    }
  },
  false,
);

async function ingest(
  target: Target,
  body: Buffer,
  bucket: Parameters<Parameters<typeof withProfiledDeployment>[2]>[2],
  run: number,
): Promise<void> {
  const t0 = performance.now();
  const res = await fetch(`${target.url}/api/v1/contexts`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  const { id } = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  target.acks.push(performance.now() - t0);
  for (;;) {
    const status = (await (await fetch(`${target.url}/api/v1/contexts/${id}/status`)).json()) as { status: string };
    if (status.status !== 'pending') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - t0;
  target.stored.push(ms);
  const b0 = performance.now();
  await new Upload({
    client: bucket.client,
    params: { Bucket: bucket.name, Key: `bare/${run}`, Body: body, ServerSideEncryption: 'AES256' },
    partSize: 5 * 1024 * 1024,
    queueSize: 5,
  }).done();
  target.ratios.push((performance.now() - b0) / ms);
}
