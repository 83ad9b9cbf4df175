// A moto S3 server of a test's own, which it can really stop.
import { spawn } from 'node:child_process';
import { freePort } from './processes.ts';

export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts /usr/bin/moto_server on `port` (a free one by default); `env` e.g. turns on its authentication. */
export async function startMoto({
  port,
  env = {},
}: {
  port?: number;
  env?: Record<string, string>;
} = {}): Promise<MotoServer> {
  const chosen = port ?? (await freePort());
  const child = spawn('/usr/bin/moto_server', ['-H', '127.0.0.1', '-p', String(chosen)], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(endpoint);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`moto_server did not answer at ${endpoint}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    port: chosen,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
