// One-off: uncached whole reads of a large context (cache.max_bytes 0, compression none) against one
// bare GetObject of its segment object streamed to the end, alternated in the same run. Prints MB/s
// and first-byte ms of each, the CPU ms per read of the api and of moto (/proc), and the ratio; with
// --cpu-prof, a CPU profile of the api. MCP_* variables of the environment go to the deployment.
// Usage: tsx test/bench/profile-uncached-reads.ts <MiB> <reads> <out dir> [--cpu-prof]
import { get, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { waitUntilSettled } from '../helpers/contexts.ts';
import { testS3Client } from '../helpers/s3.ts';
import { ndjsonCorpus } from './corpus.ts';
import { cpuSecs, pidsWhere } from './process-cpu.ts';
import { withProfiledDeployment } from './profiled-deployment.ts';

/** A GET with node:http, as the SDK reads S3 (fetch's web streams cost the client more than the bare read's). */
function httpGet(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, { headers }, resolve).on('error', reject));
}

const [mib = '16', n = '5', dir = '/tmp/prof'] = process.argv.slice(2);
const profile = process.argv.includes('--cpu-prof');
const MB = 1e6;

await withProfiledDeployment(
  dir,
  {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MCP_'))),
    MCP_STORAGE_COMPRESSION: 'none',
    MCP_CACHE_MAX_BYTES: '0',
  } as Record<string, string>,
  async (dep) => {
    const body = ndjsonCorpus(Number(mib) * 1024 * 1024, { agent_id: 'prof' });
    const res = await fetch(`${dep.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntilSettled(dep.url, id);
    const s3 = testS3Client(dep.env.MCP_STORAGE_S3_ENDPOINT!);
    const bucket = dep.env.MCP_STORAGE_S3_BUCKET!;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const largest = [...(listed.Contents ?? [])].sort((a, b) => (b.Size ?? 0) - (a.Size ?? 0))[0]!;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: largest.Key }));
    console.log(`${listed.KeyCount} objects, the largest ${head.ContentLength} bytes`);
    const [motoPid] = pidsWhere((c) =>
      c.includes(`moto_server -H 127.0.0.1 -p ${new URL(dep.env.MCP_STORAGE_S3_ENDPOINT!).port} `),
    );
    const apiCpuBefore = cpuSecs(dep.api.child.pid!);
    const motoCpuBefore = cpuSecs(motoPid!);
    const ours: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < Number(n); i++) {
      let t = performance.now();
      const got = await httpGet(`${dep.url}/api/v1/contexts/${id}`, dep.headers);
      let bytes = 0;
      let firstMs = 0;
      for await (const chunk of got) {
        if (!bytes) firstMs = performance.now() - t;
        bytes += (chunk as Buffer).length;
      }
      ours.push(bytes / MB / ((performance.now() - t) / 1000));
      const oursFirst = firstMs;
      t = performance.now();
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: largest.Key }));
      let bareBytes = 0;
      for await (const chunk of out.Body as Readable) {
        if (!bareBytes) firstMs = performance.now() - t;
        bareBytes += (chunk as Buffer).length;
      }
      bare.push(bareBytes / MB / ((performance.now() - t) / 1000));
      console.log(
        `read ${i}: ctxvault ${ours.at(-1)!.toFixed(1)} MB/s (first byte ${oursFirst.toFixed(0)} ms), bare ${bare.at(-1)!.toFixed(1)} MB/s (first byte ${firstMs.toFixed(0)} ms), ratio ${(ours.at(-1)! / bare.at(-1)!).toFixed(2)}`,
      );
    }
    const perRead = (pid: number, before: number) => (((cpuSecs(pid) - before) * 1000) / Number(n)).toFixed(0);
    // moto's share includes the bare GETs: one whole GET each against the parts of ctxvault's read
    console.log(
      `CPU ms per read: api ${perRead(dep.api.child.pid!, apiCpuBefore)}, moto (both reads) ${perRead(motoPid!, motoCpuBefore)}`,
    );
    // MB/s over all the reads (total bytes / total time), and the median of the reads' ratios
    const overall = (rates: number[]) => rates.length / rates.reduce((sum, rate) => sum + 1 / rate, 0);
    const ratios = ours.map((rate, i) => rate / bare[i]!).sort((a, b) => a - b);
    console.log(
      `ctxvault ${overall(ours).toFixed(1)} MB/s, bare ${overall(bare).toFixed(1)} MB/s: ${(overall(ours) / overall(bare)).toFixed(2)}×; median ratio ${ratios[ratios.length >> 1]!.toFixed(2)}`,
    );
  },
  profile,
);
