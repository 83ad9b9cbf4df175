// One-off: CPU profiles (--cpu-prof) of `ctxvault export`, `import` (onto local disk) and
// `rebuild --from-bucket`, over contexts written on S3 as the archive bench writes them.
// Usage: tsx test/bench/profile-archive.ts <contexts> <MiB in all> <out dir>
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitUntilSettled } from '../helpers/contexts.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { timeCli } from './archive.ts';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [contexts = '200', mib = '128', dir = '/tmp/prof-archive'] = process.argv.slice(2);
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
mkdirSync(dir, { recursive: true });

await withProfiledDeployment(
  path.join(dir, 'deployment'),
  { MCP_STORAGE_INLINE_THRESHOLD: '0', MCP_CACHE_MAX_BYTES: '0' },
  async (dep) => {
    const body = ndjsonCorpus(Math.floor((Number(mib) * 1024 * 1024) / Number(contexts)), { agent_id: 'prof' });
    for (let n = 0; n < Number(contexts); n += 6) {
      await Promise.all(
        Array.from({ length: Math.min(6, Number(contexts) - n) }, async () => {
          const res = await fetch(`${dep.url}/api/v1/contexts`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body,
          });
          const { id } = (await res.json()) as { id: string };
          await waitUntilSettled(dep.url, id, 600_000);
        }),
      );
    }
    const itemMB = (Number(contexts) * body.length) / 1e6;
    const profiled = (name: string) => ({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(dir, name)}` });
    const file = path.join(dir, 'archive.ndjson');
    const exportMs = await timeCli(['export'], { ...dep.env, ...profiled('export') }, file);
    console.log(`export ${(itemMB / (exportMs / 1000)).toFixed(1)} MB/s (${statSync(file).size} bytes)`);
    const target = await createTestDatabase(ADMIN_URL);
    const local = {
      ...dep.env,
      MCP_DATABASE_URL: target.url,
      MCP_STORAGE_TYPE: 'local',
      MCP_STORAGE_LOCAL_PATH: path.join(dir, 'blobs'),
    };
    const importMs = await timeCli(['import', file], { ...local, ...profiled('import') });
    console.log(`import ${(itemMB / (importMs / 1000)).toFixed(1)} MB/s`);
    await target.drop();
    const lost = await createTestDatabase(ADMIN_URL);
    const rebuildMs = await timeCli(['rebuild', '--from-bucket'], {
      ...dep.env,
      MCP_DATABASE_URL: lost.url,
      ...profiled('rebuild'),
    });
    console.log(`rebuild ${(rebuildMs / 1000).toFixed(1)} s`);
    await lost.drop();
  },
);
