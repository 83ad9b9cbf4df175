// One-off: a CPU profile (--cpu-prof) of the api during cached 64 KiB reads, as in the benchmark.
// Usage: tsx test/bench/profile-reads.ts <requests> <out dir>
import { waitUntilSettled } from '../helpers/contexts.ts';
import { corpusItems } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [n = '2000', dir = '/tmp/prof'] = process.argv.slice(2);

await withProfiledDeployment(dir, { MCP_STORAGE_INLINE_THRESHOLD: '16KiB' }, async (dep) => {
  const res = await fetch(`${dep.url}/api/v1/contexts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: 'prof', content: corpusItems(64 * 1024 - 128) }),
  });
  const { id } = (await res.json()) as { id: string };
  await waitUntilSettled(dep.url, id);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < Number(n)) await (await fetch(`${dep.url}/api/v1/contexts/${id}`)).arrayBuffer();
    }),
  );
  console.log(`${((Number(n) / (performance.now() - t0)) * 1000).toFixed(0)} req/s`);
});
