// One-off: small NDJSON ingests one after the other, each timed POST → 202 → `stored` (polled every
// 10 ms, as the bench polls) and followed by a bare lib-storage Upload of the same body, so their
// ratio is taken within one run; more runs than the bench's two, for a median on a busy machine.
// Usage: tsx test/bench/profile-small-ingest.ts [MiB] [runs]
import { Upload } from '@aws-sdk/lib-storage';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mib = '1', runs = '20'] = process.argv.slice(2);
const acks: number[] = [];
const stored: number[] = [];
const ratios: number[] = [];

await withProfiledDeployment(
  '/tmp/prof',
  {},
  async (dep, _databaseUrl, bucket) => {
    const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' });
    for (let run = 0; run < Number(runs); run++) {
      const t0 = performance.now();
      const res = await fetch(`${dep.url}/api/v1/contexts`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body,
      });
      const { id } = (await res.json()) as { id: string };
      acks.push(performance.now() - t0);
      for (;;) {
        const status = (await (await fetch(`${dep.url}/api/v1/contexts/${id}/status`)).json()) as { status: string };
        if (status.status !== 'pending') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const ms = performance.now() - t0;
      stored.push(ms);
      const b0 = performance.now();
      await new Upload({
        client: bucket.client,
        params: { Bucket: bucket.name, Key: `bare/${run}`, Body: body, ServerSideEncryption: 'AES256' },
        partSize: 5 * 1024 * 1024,
        queueSize: 5,
      }).done();
      ratios.push((performance.now() - b0) / ms);
    }
  },
  false,
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(
  `${runs} ingests of ${mib} MiB, medians: 202 after ${median(acks).toFixed(1)} ms, stored after ${median(stored).toFixed(1)} ms; ` +
    `speed / the bare Upload's ${median(ratios).toFixed(2)}`,
);
