// One-off: search of a large context once the worker indexed it, each step timed, with the plan of
// the index query and a CPU profile (--cpu-prof) of the api.
// Usage: tsx test/bench/profile-search.ts <MiB> <out dir>
import pg from 'pg';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mib = '16', dir = '/tmp/prof'] = process.argv.slice(2);

await withProfiledDeployment(dir, {}, async (dep) => {
  const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof-search' }, 44);
  const res = await fetch(`${dep.url}/api/v1/contexts`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  const { id } = (await res.json()) as { id: string };
  const t0 = performance.now();
  for (;;) {
    const status = (await (await fetch(`${dep.url}/api/v1/contexts/${id}/status`)).json()) as {
      status: string;
      job: { state: string } | null;
    };
    if (status.status === 'stored' && (!status.job || status.job.state === 'completed')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`stored and indexed ${((performance.now() - t0) / 1000).toFixed(1)} s after the POST answered`);
  const db = new pg.Client({ connectionString: dep.env.MCP_DATABASE_URL });
  await db.connect();
  const { rows: segs } = await db.query('select id from segments where context_id = $1', [id]);
  for (const [analyze, query] of [
    [false, { query: 'quokka-7731' }],
    [false, { query: 'function', limit: 10 }],
    [true, { query: 'quokka-7731' }],
    [true, { query: 'function', limit: 10 }],
  ] as const) {
    // the planner's choice with and without statistics of the freshly filled index
    if (analyze) await db.query('analyze segment_search');
    const { rows: plan } = await db.query(
      `explain analyze select m.item from unnest($1::uuid[]) with ordinality as u(sid, pos)
         cross join lateral (select ss.item from segment_search ss where ss.segment_id = u.sid and ss.folded like $2
           order by ss.item limit 11) m
        order by u.pos, m.item limit 11`,
      [segs.map((s) => s.id), `%${query.query}%`],
    );
    console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = performance.now();
      const answer = await fetch(`${dep.url}/api/v1/contexts/${id}/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(query),
      });
      await answer.text();
      times.push(performance.now() - s);
    }
    console.log(`${query.query}${analyze ? ' (analyzed)' : ''}: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  }
  await db.end();
});
