// One-off: where the CPU of the write path goes. Small creates (4 KiB of JSON, inline, 16 at once)
// and then the turn loop (sessions from 64 KiB: read the last 20 items, append two), each with the
// CPU seconds per request of the api, the worker, the deployment's Postgres backends, Redis and
// this client (from /proc), and Postgres's row counters (pg_stat_user_tables, commits); with
// --cpu-prof the api and the worker write CPU profiles into <out dir>.
// Usage: [PGOPTIONS='-c log_statement=all'] tsx test/bench/profile-writes.ts <requests> <turn seconds, 0: no turns> <out dir> [--cpu-prof]
import { queryRows } from '../helpers/database.ts';
import { corpusItems } from './corpus.ts';
import { cpuSecs, pidsWhere } from './process-cpu.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';
import { ctxvaultStore, runTurns, seedSessions } from './turns.ts';

const [requests = '2000', secs = '15', dir = '/tmp/prof'] = process.argv.slice(2);
const profile = process.argv.includes('--cpu-prof');
interface Snapshot {
  cpu: Record<string, number>;
  tables: Record<string, number[]>;
  commits: number;
}

async function snapshot(dbUrl: string, api: number, worker: number): Promise<Snapshot> {
  const db = new URL(dbUrl).pathname.slice(1);
  const backends = await queryRows<{ pid: number }>(
    dbUrl,
    'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [db],
  );
  const tables = await queryRows<{ relname: string; ins: string; upd: string; hot: string; del: string }>(
    dbUrl,
    'select relname, n_tup_ins as ins, n_tup_upd as upd, n_tup_hot_upd as hot, n_tup_del as del from pg_stat_user_tables',
  );
  const [stats] = await queryRows<{ commits: string }>(
    dbUrl,
    'select xact_commit as commits from pg_stat_database where datname = $1',
    [db],
  );
  const own = process.cpuUsage();
  return {
    cpu: {
      api: cpuSecs(api),
      worker: cpuSecs(worker),
      postgres: backends.reduce((sum, b) => sum + cpuSecs(b.pid), 0),
      redis: pidsWhere((c) => c.startsWith('redis-server')).reduce((sum, pid) => sum + cpuSecs(pid), 0),
      client: (own.user + own.system) / 1e6,
    },
    tables: Object.fromEntries(tables.map((t) => [t.relname, [t.ins, t.upd, t.hot, t.del].map(Number)])),
    commits: Number(stats?.commits),
  };
}

function report(label: string, count: number, before: Snapshot, after: Snapshot): void {
  const per = (x: number) => ((x / count) * 1000).toFixed(2);
  const cpu = Object.keys(after.cpu).map((k) => `${k} ${per(after.cpu[k]! - before.cpu[k]!)}`);
  console.log(`${label}: ${count} requests; CPU ms per request: ${cpu.join(', ')}`);
  // pg stats are sent by backends at transaction end, with a delay: a snapshot may lag by a little
  const rows = Object.entries(after.tables)
    .map(([t, v]) => [t, v.map((x, i) => (x - (before.tables[t]?.[i] ?? 0)) / count)] as const)
    .filter(([, v]) => v.some((x) => x > 0))
    .map(
      ([t, v]) =>
        `${t} ins ${v[0]!.toFixed(2)} upd ${v[1]!.toFixed(2)} (hot ${v[2]!.toFixed(2)}) del ${v[3]!.toFixed(2)}`,
    );
  console.log(`  rows per request: ${rows.join('; ')}`);
  console.log(`  commits per request: ${((after.commits - before.commits) / count).toFixed(2)}`);
}

const settle = () => new Promise<void>((r) => setTimeout(r, 1500));

/** Waits until the worker has stored and indexed every segment (the seeding's jobs must not count in the turns). */
async function workerIdle(dbUrl: string): Promise<void> {
  for (;;) {
    const [left] = await queryRows<{ n: number }>(
      dbUrl,
      `select count(*)::int as n from segments where state = 'staged' or (state = 'stored' and not search_indexed)`,
    );
    if (left?.n === 0) return settle();
    await settle();
  }
}

// PGOPTIONS='-c log_statement=all' has the deployment's connections log every statement
const pgOptions: Record<string, string> = process.env.PGOPTIONS ? { PGOPTIONS: process.env.PGOPTIONS } : {};
await withProfiledDeployment(
  dir,
  { MCP_STORAGE_INLINE_THRESHOLD: '16KiB', ...pgOptions },
  async (dep, dbUrl) => {
    const api = dep.api.child.pid!;
    const worker = dep.worker.child.pid!;
    const doc = JSON.stringify({ agent_id: 'bench-small', session_id: 's', content: corpusItems(4 * 1024 - 64) });
    const post = async () => {
      const res = await fetch(`${dep.url}/api/v1/contexts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: doc,
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`create answered ${res.status}`);
    };
    for (let i = 0; i < 200; i++) await post(); // warm up
    await settle();
    let before = await snapshot(dbUrl, api, worker);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < Number(requests)) await post();
      }),
    );
    const rps = Number(requests) / ((performance.now() - t0) / 1000);
    await settle();
    report(`small creates (${rps.toFixed(0)} req/s)`, Number(requests), before, await snapshot(dbUrl, api, worker));

    if (Number(secs) === 0) return;
    const store = ctxvaultStore([dep.url], async () => {});
    const ids = await seedSessions(store, 50, corpusItems(64 * 1024, 13), 8);
    const pool = corpusItems(512 * 1024, 11);
    const pair = (n: number) => [pool[(2 * n) % pool.length]!, pool[(2 * n + 1) % pool.length]!];
    await workerIdle(dbUrl);
    before = await snapshot(dbUrl, api, worker);
    const result = await runTurns(store, ids, Number(secs) * 1000, 'last=20', pair);
    await settle();
    report(
      `turns 64 KiB (${result.turnsPerSec.toFixed(0)} turns/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms)`,
      result.turns,
      before,
      await snapshot(dbUrl, api, worker),
    );
  },
  profile,
);
