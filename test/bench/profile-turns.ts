// One-off: where the CPU goes during the turn loop of the benchmark (sessions from 64 KiB, each turn
// reads the last 20 items and appends two): CPU seconds (and the system part) of the api, the worker,
// the Postgres backends of the deployment's database, redis-server (shared: every client's) and this
// client process, read from /proc before and after the loop, and the Postgres statements per turn;
// with --cpu-prof the api and the worker also write CPU profiles (--cpu-prof) to <out dir>. With
// --statements=<Postgres server log> the deployment's database logs every statement's duration and
// plan (auto_explain: analyze, buffers, WAL), and the loop's are summed up per statement from that log.
// --window=<query> reads another window than the last 20 items (e.g. --window=max_tokens=8000).
// Usage: tsx test/bench/profile-turns.ts <sessions> <seconds> <out dir> [--cpu-prof] [--statements=<log>] [--window=<query>]
import { readFileSync, statSync } from 'node:fs';
import { queryRows } from '../helpers/database.ts';
import { corpusItems } from './corpus.ts';
import { cpuSecs, pidsWhere } from './process-cpu.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';
import { ctxvaultStore, runTurns, seedSessions } from './turns.ts';

const [sessions = '50', secs = '15', dir = '/tmp/prof'] = process.argv.slice(2);
const windowQuery = process.argv.find((a) => a.startsWith('--window='))?.slice('--window='.length) ?? 'last=20';
const serverLog = process.argv.find((a) => a.startsWith('--statements='))?.slice('--statements='.length);
const STATEMENT_LOGGING = {
  log_min_duration_statement: '0',
  session_preload_libraries: 'auto_explain',
  'auto_explain.log_min_duration': '0',
  'auto_explain.log_analyze': 'on',
  'auto_explain.log_buffers': 'on',
  'auto_explain.log_wal': 'on',
};
await withProfiledDeployment(
  dir,
  {},
  async (dep) => {
    const dbName = new URL(dep.env.MCP_DATABASE_URL!).pathname.slice(1);
    const store = ctxvaultStore([dep.url], async () => {});
    const ids = await seedSessions(store, Number(sessions), corpusItems(64 * 1024, 13), 8);
    const pool = corpusItems(512 * 1024, 11);
    const pair = (n: number) => [pool[(2 * n) % pool.length]!, pool[(2 * n + 1) % pool.length]!];
    const groups = () => ({
      api: [dep.api.child.pid!],
      worker: [dep.worker.child.pid!],
      postgres: pidsWhere((c) => c.startsWith('postgres: ') && c.includes(` ${dbName} `)),
      redis: pidsWhere((c) => c.startsWith('redis-server')),
      client: [process.pid],
    });
    const pgStats = async () =>
      (
        await queryRows<{ xacts: number; fetched: number; returned: number }>(
          dep.env.MCP_DATABASE_URL!,
          `select (xact_commit + xact_rollback)::float8 as xacts, tup_fetched::float8 as fetched, tup_returned::float8 as returned
             from pg_stat_database where datname = current_database()`,
        )
      )[0]!;
    const pg0 = await pgStats();
    const before = groups();
    const at0 = Object.fromEntries(Object.entries(before).map(([k, pids]) => [k, pids.map((pid) => cpuSecs(pid))]));
    const sys0 = Object.fromEntries(
      Object.entries(before).map(([k, pids]) => [k, pids.map((pid) => cpuSecs(pid, 'system'))]),
    );
    const logFrom = serverLog ? statSync(serverLog).size : 0;
    const result = await runTurns(store, ids, Number(secs) * 1000, windowQuery, pair);
    const parts = Object.entries(groups()).map(([k, pids]) => {
      const was = new Map(before[k as keyof typeof before].map((pid, i) => [pid, at0[k]![i]!]));
      const used = pids.reduce((sum, pid) => sum + cpuSecs(pid) - (was.get(pid) ?? 0), 0);
      const sysWas = new Map(before[k as keyof typeof before].map((pid, i) => [pid, sys0[k]![i]!]));
      const sys = pids.reduce((sum, pid) => sum + cpuSecs(pid, 'system') - (sysWas.get(pid) ?? 0), 0);
      return `${k} ${used.toFixed(2)} s, of which system ${sys.toFixed(2)} (${pids.length} proc)`;
    });
    console.log(
      `${result.turnsPerSec.toFixed(1)} turns/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, ${result.turns} turns in ${result.secs.toFixed(1)} s`,
    );
    console.log(`CPU: ${parts.join(', ')}`);
    await new Promise((r) => setTimeout(r, 1500)); // backends report their statistics within a second
    const pg1 = await pgStats();
    const perTurn = (k: keyof typeof pg1) => ((pg1[k] - pg0[k]) / result.turns).toFixed(1);
    console.log(
      `Postgres per turn: ${perTurn('xacts')} transactions, ${perTurn('fetched')} tuples fetched, ${perTurn('returned')} returned`,
    );
    if (serverLog) printStatements(serverLog, logFrom, dbName, result.turns);
  },
  process.argv.includes('--cpu-prof'),
  serverLog ? STATEMENT_LOGGING : {},
);

/**
 * Per statement (its prepared name, or its first words), the server's durations per turn from the
 * log lines of database `db` after `from` (log_line_prefix with %d): parse, bind and execute apart, as log_min_duration_statement
 * writes them (auto_explain's analyze makes them slower than unlogged; compare them with each other).
 */
function printStatements(log: string, from: number, db: string, turns: number): void {
  const text = readFileSync(log).subarray(from).toString('utf8');
  const totals = new Map<string, { count: number; ms: number }>();
  for (const m of text.matchAll(
    /@(\w+) LOG: {2}duration: ([\d.]+) ms {2}(parse|bind|execute|statement)([^:]*): ?(.{0,70})/g,
  )) {
    if (m[1] !== db) continue;
    const name = m[4]!.trim();
    const key = `${m[3]} ${name && name !== '<unnamed>' ? name : m[5]!.replace(/\s+/g, ' ')}`;
    const total = totals.get(key) ?? { count: 0, ms: 0 };
    total.count++;
    total.ms += Number(m[2]);
    totals.set(key, total);
  }
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  console.log('Postgres statements, per turn: count, ms (logged with auto_explain analyze)');
  for (const [key, { count, ms }] of rows)
    console.log(`  ${(count / turns).toFixed(2)}  ${(ms / turns).toFixed(3)} ms  ${key}`);
}
