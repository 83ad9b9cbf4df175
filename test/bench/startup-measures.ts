// Start-up of one `ctxvault api` or `ctxvault worker` process: the time from spawn to its ready line,
// and its resident memory once idle, as production runs it (plain node on dist/, no source maps) and
// as it ran before the build (tsx on the TypeScript sources); against a bare node HTTP server.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI_MAIN, ROOT } from '../helpers/build.ts';
import { NODE_FLAGS } from '../helpers/processes.ts';

export type Runtime = 'node dist/' | 'tsx src/' | 'bare node';

export interface Startup {
  readyMs: number;
  /** VmRSS summed over the process and its children (tsx runs the app in a child of its own) */
  idleRssMb: number;
}

const READY: Record<'api' | 'worker', RegExp> = { api: /API listening/, worker: /worker running/ };
const BARE_SERVER =
  "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('API listening worker running'))";

function command(runtime: Runtime, which: 'api' | 'worker'): string[] {
  if (runtime === 'node dist/') return [process.execPath, ...NODE_FLAGS, CLI_MAIN, which];
  if (runtime === 'tsx src/')
    return [path.join(ROOT, 'node_modules/.bin/tsx'), '--conditions=ctxvault-source', 'apps/cli/src/main.ts', which];
  return [process.execPath, '-e', BARE_SERVER];
}

/** Starts the process, times it to its ready line, waits `idleMs`, reads its memory and stops it. */
export async function measureStartup(
  runtime: Runtime,
  which: 'api' | 'worker',
  env: Record<string, string>,
  idleMs = 2000,
): Promise<Startup> {
  const [file, ...args] = command(runtime, which);
  const started = performance.now();
  const child = spawn(file!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    let output = '';
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${runtime} ${which} not ready in 60 s:\n${output}`)), 60_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (READY[which].test(output)) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${runtime} ${which} exited with ${code}:\n${output}`)));
    });
    await new Promise((r) => setTimeout(r, idleMs));
    return { readyMs, idleRssMb: treeRssBytes(child.pid!) / 1e6 };
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

function treeRssBytes(pid: number): number {
  let total = 0;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    total += m ? Number(m[1]) * 1024 : 0;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
      total += treeRssBytes(Number(child));
    }
  } catch {
    /* gone */
  }
  return total;
}
