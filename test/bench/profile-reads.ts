// One-off: the api during cached 64 KiB reads, as in the benchmark: requests/s and the CPU ms per
// read of the api, its Postgres backends and this client (from /proc); with --cpu-prof the api and
// the worker also write CPU profiles to <out dir>.
// Usage: tsx test/bench/profile-reads.ts <requests> <out dir> [--cpu-prof]

import { waitUntilSettled } from '../helpers/contexts.ts';
import { queryRows } from '../helpers/database.ts';
import { corpusItems } from './corpus.ts';
import { cpuSecs } from './process-cpu.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [n = '2000', dir = '/tmp/prof'] = process.argv.slice(2);
const profile = process.argv.includes('--cpu-prof');

await withProfiledDeployment(
  dir,
  { MCP_STORAGE_INLINE_THRESHOLD: '16KiB' },
  async (dep, dbUrl) => {
    const res = await fetch(`${dep.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'prof', content: corpusItems(64 * 1024 - 128) }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntilSettled(dep.url, id);
    const read = async () => await (await fetch(`${dep.url}/api/v1/contexts/${id}`)).arrayBuffer();
    for (let i = 0; i < 200; i++) await read(); // warm up (and fill the cache)
    const db = new URL(dbUrl).pathname.slice(1);
    const cpu = async () => {
      const backends = await queryRows<{ pid: number }>(
        dbUrl,
        'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [db],
      );
      const own = process.cpuUsage();
      return [
        cpuSecs(dep.api.child.pid!),
        backends.reduce((sum, b) => sum + cpuSecs(b.pid), 0),
        (own.user + own.system) / 1e6,
      ];
    };
    const before = await cpu();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < Number(n)) await read();
      }),
    );
    const rps = (Number(n) / (performance.now() - t0)) * 1000;
    const after = await cpu();
    const per = after.map((x, i) => (((x - before[i]!) / Number(n)) * 1000).toFixed(3));
    console.log(`${rps.toFixed(0)} req/s; CPU ms per read: api ${per[0]}, postgres ${per[1]}, client ${per[2]}`);
  },
  profile,
);
