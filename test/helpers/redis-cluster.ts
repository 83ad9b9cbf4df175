// A private Redis Cluster on spare local ports: three masters, each with one replica, so a killed
// master fails over to its replica. Built with the real tools: `redis-server --cluster-enabled yes`
// per node, then `redis-cli --cluster create`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';

const run = promisify(execFile);

/**
 * ms after which the cluster marks an unreachable master failed and promotes its replica (Redis's
 * default is 15 s; short here so a failover fits in a test)
 */
const NODE_TIMEOUT_MS = 1_000;

interface ClusterNode {
  port: number;
  child: ChildProcess;
}

export interface RedisClusterUnderTest {
  /** the masters' URLs, comma-separated: what redis.url takes with redis.cluster */
  url: string;
  /** SIGKILLs the master serving `key`'s hash slot; resolves once its replica has taken over */
  killMasterOf(key: string): Promise<{ killed: number; promoted: number }>;
  /** FLUSHALL on every master: Redis forgets every job */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster({ masters = 3, replicas = 1 } = {}): Promise<RedisClusterUnderTest> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctxvault-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const alive = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  const stop = async () => {
    await Promise.all(
      alive().map(async (n) => {
        n.child.kill('SIGTERM');
        await new Promise((r) => n.child.once('exit', r));
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startNode(dir));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitFor(async () => {
      for (const n of nodes) if (!(await clusterOk(n.port))) return false;
      return (await roles(nodes)).filter((r) => r.role === 'slave' && r.synced).length === masters * replicas;
    }, 'the cluster to be ok with every replica in sync');
  } catch (err) {
    await stop();
    throw err;
  }

  const masterPorts = async () => (await roles(alive())).filter((r) => r.role === 'master').map((r) => r.port);
  return {
    url: (await masterPorts()).map((p) => `redis://127.0.0.1:${p}`).join(','),
    killMasterOf: async (key) => {
      const killed = await masterOf(alive()[0]!.port, key);
      if (!killed) throw new Error(`no master serves ${key}`);
      const node = nodes.find((n) => n.port === killed)!;
      node.child.kill('SIGKILL');
      await new Promise((r) => node.child.once('exit', r));
      let promoted = 0;
      await waitFor(async () => {
        const rest = alive();
        if (!(await clusterOk(rest[0]!.port))) return false;
        const owner = await masterOf(rest[0]!.port, key);
        promoted = owner && owner !== killed ? owner : 0;
        return promoted !== 0;
      }, `a replica to take over from master ${killed}`);
      return { killed, promoted };
    },
    flushAll: async () => {
      for (const port of await masterPorts()) await withNode(port, (r) => r.flushall());
    },
    stop,
  };
}

/**
 * One cluster node, answering PING. Its cluster bus gets a free port of its own (`cluster-port`):
 * the default, port + 10000, may be taken or past 65535. A port taken between the check and the
 * start makes redis-server exit; then it starts again on other ports.
 */
async function startNode(dir: string, attempts = 5): Promise<ClusterNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
        ...['--cluster-port', String(busPort)],
        ...['--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--save', '', '--appendonly', 'no'],
      ],
      { stdio: 'ignore' },
    );
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await waitFor(async () => exited() || (await ping(port)), `redis-server on port ${port}`);
    if (!exited()) return { port, child };
    if (attempt === attempts) throw new Error(`redis-server exited at start ${attempts} times (ports taken?)`);
  }
}

async function withNode<T>(port: number, use: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await use(r);
  } finally {
    r.disconnect();
  }
}

/** The port of the master serving `key`'s hash slot, as the node at `port` sees the cluster. */
async function masterOf(port: number, key: string): Promise<number | undefined> {
  return withNode(port, async (r) => {
    const slot = (await r.call('CLUSTER', 'KEYSLOT', key)) as number;
    const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    return ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
  });
}

async function ping(port: number): Promise<boolean> {
  return withNode(port, async (r) => (await r.ping()) === 'PONG').catch(() => false);
}

async function clusterOk(port: number): Promise<boolean> {
  const info = await withNode(port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>).catch(() => '');
  return info.includes('cluster_state:ok');
}

/** Each node's role, and for a replica whether its link to the master is up and synced. */
async function roles(nodes: ClusterNode[]): Promise<{ port: number; role: string; synced: boolean }[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const info = await withNode(n.port, (r) => r.info('replication'));
      const role = /role:(\w+)/.exec(info)?.[1] ?? '';
      return { port: n.port, role, synced: /master_link_status:up/.test(info) };
    }),
  );
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
