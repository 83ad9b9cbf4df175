// One-off: a CPU profile (--cpu-prof) of the api and the worker during the turn loop of the benchmark
// (sessions from 64 KiB, each turn reads the last 20 items and appends two).
// Usage: tsx test/bench/profile-turns.ts <sessions> <seconds> <out dir>
import { corpusItems } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';
import { ctxvaultStore, runTurns, seedSessions } from './turns.ts';

const [sessions = '50', secs = '15', dir = '/tmp/prof'] = process.argv.slice(2);

await withProfiledDeployment(dir, {}, async (dep) => {
  const store = ctxvaultStore([dep.url], async () => {});
  const ids = await seedSessions(store, Number(sessions), corpusItems(64 * 1024, 13), 8);
  const pool = corpusItems(512 * 1024, 11);
  const pair = (n: number) => [pool[(2 * n) % pool.length]!, pool[(2 * n + 1) % pool.length]!];
  const result = await runTurns(store, ids, Number(secs) * 1000, 'last=20', pair);
  console.log(
    `${result.turnsPerSec.toFixed(1)} turns/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms`,
  );
});
