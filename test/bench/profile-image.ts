// One-off: CPU profiles (--cpu-prof) of the api and worker during a create holding one base64 image
// (after a small warm-up create). Usage: tsx test/bench/profile-image.ts <MB> <out dir>
import { waitUntilSettled } from '../helpers/contexts.ts';
import { imageCreateBody } from './ingest-measures.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mb = '8', dir = '/tmp/prof-image'] = process.argv.slice(2);

await withProfiledDeployment(dir, {}, async (dep) => {
  const post = (body: string) =>
    fetch(`${dep.url}/api/v1/contexts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await post(JSON.stringify({ agent_id: 'warm', content: [{ role: 'user', content: 'warm up' }] }));
  const t0 = performance.now();
  const res = await post(imageCreateBody(Number(mb) * 1e6));
  const { id } = (await res.json()) as { id: string };
  console.log(`${res.status} after ${(performance.now() - t0).toFixed(0)} ms`);
  await waitUntilSettled(dep.url, id, 600_000);
});
