// One-off: where the worker's memory goes during one large NDJSON ingest. Samples, every 200 ms, the
// worker's VmRSS and its main thread's V8 figures (prom-client's gauges on metrics.worker_port: heap
// spaces, external memory, array buffers; counting threads are isolates of their own, seen only in
// the RSS) and prints the samples around the peak.
// Usage: tsx test/bench/profile-memory.ts <MiB> [NAME=VALUE …] (settings of the deployment, e.g.
// MCP_TOKENS_COUNTING_THREADS=1); WITH_TOKENS=1 gives the items their `tokens`, so nothing is counted.
import { readFileSync } from 'node:fs';
import { waitUntilSettled } from '../helpers/contexts.ts';
import { freePort } from '../helpers/processes.ts';
import { ndjsonCorpus } from './corpus.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

const [mib = '128', ...settings] = process.argv.slice(2);
const MB = 1e6;

interface Sample {
  ms: number;
  rss: number;
  series: Map<string, number>;
}

/** The RSS of the process's anonymous mappings, by mapping size: V8's pages, malloc's arenas (64 MB each), the rest. */
function anonymousBySize(pid: number): string {
  const bySize = new Map<string, number>();
  let size = 0;
  let anonymous = false;
  let head0 = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      size = (Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16)) / 1024;
      anonymous = head[3] === '' || head[3] === '[heap]';
      head0 = head[3] || head[1]!;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && anonymous) {
      const key =
        Number(rss[1]) >= 8192
          ? `${head0} (${(size / 1024).toFixed(0)} MB)`
          : size <= 1024
            ? 'mappings of 1 MB or less'
            : 'other';
      bySize.set(key, (bySize.get(key) ?? 0) + Number(rss[1]) / 1024);
    }
  }
  return [...bySize].map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ');
}

/** The main thread's memory gauges: committed heap space sizes (`new`, `old`, …), external memory (array buffers among it). */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const space = /^nodejs_heap_space_size_total_bytes\{space="(\w+)"\}\s+(\S+)/.exec(line);
    if (space && Number(space[2]) > MB) series.set(space[1]!, Number(space[2]));
    const external = /^nodejs_external_memory_bytes\s+(\S+)/.exec(line);
    if (external) series.set('external', Number(external[1]));
  }
  return series;
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

const metricsPort = await freePort();
const env = Object.fromEntries([
  ['MCP_STORAGE_COMPRESSION', 'none'],
  ['MCP_CACHE_MAX_BYTES', '0'],
  ['MCP_METRICS_WORKER_PORT', String(metricsPort)],
  ...settings.map((s) => s.split('=', 2) as [string, string]),
]);

await withProfiledDeployment(
  '/tmp',
  env,
  async (dep) => {
    const pid = dep.worker.child.pid!;
    const samples: Sample[] = [];
    let mappings = '';
    const t0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text().catch(() => '');
        const sample = { ms: performance.now() - t0, rss: rssOf(pid), series: parseMetrics(text) };
        if (samples.every((s) => s.rss < sample.rss)) mappings = anonymousBySize(pid);
        samples.push(sample);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' }, 43, {
      tokens: process.env.WITH_TOKENS === '1',
    });
    const res = await fetch(`${dep.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntilSettled(dep.url, id, 600_000);
    const stored = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 2000));
    sampling = false;
    await sampler;
    const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const names = [...new Set(samples.flatMap((s) => [...s.series.keys()]))].sort();
    console.log(`idle RSS ${(samples[0]!.rss / MB).toFixed(0)} MB; stored after ${(stored / 1000).toFixed(1)} s`);
    console.log(`anonymous memory at the peak: ${mappings}`);
    console.log(['s', 'rss', ...names].join('\t'));
    for (const s of samples.filter((_, i) => i % 2 === 0 || _ === peak))
      console.log(
        [
          (s.ms / 1000).toFixed(1) + (s === peak ? ' peak' : ''),
          (s.rss / MB).toFixed(0),
          ...names.map((n) => ((s.series.get(n) ?? 0) / MB).toFixed(1)),
        ].join('\t'),
      );
  },
  false,
);
