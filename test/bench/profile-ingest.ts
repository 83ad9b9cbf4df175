// One-off: CPU profiles (--cpu-prof) of the api and worker during one large NDJSON ingest, and their
// memory once it is stored. Usage: tsx test/bench/profile-ingest.ts <MiB> <out dir> [compression]
import { readFileSync } from 'node:fs';
import { waitUntilSettled } from '../helpers/contexts.ts';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mib = '64', dir = '/tmp/prof', codec = 'none'] = process.argv.slice(2);

await withProfiledDeployment(dir, { MCP_STORAGE_COMPRESSION: codec }, async (dep) => {
  // as the bench's ingest: items without `tokens`, counted by the worker
  const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' }, 42, { tokens: false });
  const t0 = performance.now();
  const res = await fetch(`${dep.url}/api/v1/contexts`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  const { id } = (await res.json()) as { id: string };
  const t1 = performance.now();
  await waitUntilSettled(dep.url, id, 600_000);
  const t2 = performance.now();
  while (
    !((await (await fetch(`${dep.url}/api/v1/contexts/${id}/status`)).json()) as { tokens_final: boolean }).tokens_final
  )
    await new Promise((r) => setTimeout(r, 50));
  const seconds = (t: number) => ((t - t0) / 1000).toFixed(1);
  console.log(
    `202 after ${seconds(t1)} s, stored after ${seconds(t2)} s, counted after ${seconds(performance.now())} s`,
  );
  for (const proc of [dep.api, dep.worker]) {
    const pid = proc.child.pid!;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    console.log(
      pid,
      status
        .split('\n')
        .filter((l) => /VmRSS|RssAnon|RssFile|VmHWM/.test(l))
        .join(' '),
    );
  }
});
