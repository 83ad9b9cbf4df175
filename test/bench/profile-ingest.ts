// One-off: CPU profiles (--cpu-prof) of the api and worker during one large NDJSON ingest, and their
// idle memory breakdown. Usage: tsx test/bench/profile-ingest.ts <MiB> <out dir> [compression]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createTestDatabase } from '../helpers/database.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { startDeployment } from '../helpers/deployment.ts';
import { freePort } from '../helpers/processes.ts';
import { ndjsonCorpus } from './corpus.ts';

const [mib = '64', dir = '/tmp/prof', codec = 'none'] = process.argv.slice(2);
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
  { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}`, MCP_STORAGE_COMPRESSION: codec },
);
try {
  const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' });
  const t0 = performance.now();
  const res = await fetch(`${dep.url}/api/v1/contexts`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  const { id } = (await res.json()) as { id: string };
  const t1 = performance.now();
  for (;;) {
    const s = (await (await fetch(`${dep.url}/api/v1/contexts/${id}/status`)).json()) as { status: string };
    if (s.status !== 'pending') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`202 after ${((t1 - t0) / 1000).toFixed(1)} s, stored after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { execFileSync } = await import('node:child_process');
  for (const p of [dep.api, dep.worker]) {
    const child = execFileSync('pgrep', ['-P', String(p.child.pid)], { encoding: 'utf8' }).trim();
    const status = readFileSync(`/proc/${child}/status`, 'utf8');
    console.log(child, status.split('\n').filter((l) => /VmRSS|RssAnon|RssFile|VmHWM/.test(l)).join(' '));
    process.kill(Number(child), 'SIGINT');
  }
  await new Promise((r) => setTimeout(r, 5000));
} finally {
  await dep.stop();
  await bucket.drop();
  await db.drop();
  moto.kill();
}
