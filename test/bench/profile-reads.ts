// One-off: a CPU profile (--cpu-prof) of the api during cached 64 KiB reads, as in the benchmark.
// Usage: tsx test/bench/profile-reads.ts <requests> <out dir>
import { spawn, execFileSync } from 'node:child_process';
import { createTestDatabase } from '../helpers/database.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { startDeployment } from '../helpers/deployment.ts';
import { freePort } from '../helpers/processes.ts';
import { corpusItems } from './corpus.ts';

const [n = '2000', dir = '/tmp/prof'] = process.argv.slice(2);
const port = await freePort();
const moto = spawn('/usr/bin/moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
const s3 = `http://127.0.0.1:${port}`;
for (;;) {
  try {
    await fetch(s3);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 200));
  }
}
const db = await createTestDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const bucket = await createTestBucket(s3);
const dep = await startDeployment(
  { databaseUrl: db.url, redisUrl: 'redis://127.0.0.1:6379', s3Endpoint: s3, bucket: bucket.name },
  { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}`, MCP_STORAGE_INLINE_THRESHOLD: '16KiB' },
);
try {
  const res = await fetch(`${dep.url}/api/v1/contexts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_id: 'prof', content: corpusItems(64 * 1024 - 128) }) });
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const s = (await (await fetch(`${dep.url}/api/v1/contexts/${id}/status`)).json()) as { status: string };
    if (s.status !== 'pending') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < Number(n)) await (await fetch(`${dep.url}/api/v1/contexts/${id}`)).arrayBuffer();
    }),
  );
  console.log(`${((Number(n) / (performance.now() - t0)) * 1000).toFixed(0)} req/s`);
  const child = execFileSync('pgrep', ['-P', String(dep.api.child.pid)], { encoding: 'utf8' }).trim();
  process.kill(Number(child), 'SIGINT');
  await new Promise((r) => setTimeout(r, 5000));
} finally {
  await dep.stop();
  await bucket.drop();
  await db.drop();
  moto.kill();
}
