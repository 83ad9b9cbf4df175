// Archives and second deployments for the export/import and rebuild suites: `ctxvault export` with
// its stdout in a file, and an API process on another database and store to read back from.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ROOT } from './build.ts';
import { api, type JsonAnswer } from './contexts.ts';
import { bearer, createApiKey, useCredentials } from './credentials.ts';
import { CLI_ARGS, type CtxvaultProcess, cliEnv, freePort, spawnCtxvault } from './processes.ts';

/** `ctxvault export <args…> > file`: its exit code and stderr (the progress bar). */
export function exportTo(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const out = openSync(file, 'w');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGS, 'export', ...args], {
      cwd: ROOT,
      env: cliEnv(env),
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => {
      closeSync(out);
      resolve({ code: code ?? -1, stderr });
    });
  });
}

export interface ReadBack {
  url: string;
  api: CtxvaultProcess;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** An API process on `env` (another database and store), with an admin key of tenant "default" that `api()` sends. */
export async function startApi(env: Record<string, string>): Promise<ReadBack> {
  const port = await freePort();
  const full = { ...env, MCP_SERVER_PORT: String(port), MCP_SERVER_HOST: '127.0.0.1', MCP_LOGGING_LEVEL: 'info' };
  const proc = await spawnCtxvault('api', full, { readyLine: /API listening/ });
  const url = `http://127.0.0.1:${port}`;
  useCredentials(url, bearer(await createApiKey(env.MCP_DATABASE_URL!, 'default')));
  return { url, api: proc, env: full, stop: () => proc.stop() };
}

/** What every read of a context answers, for comparing two deployments: the document (without where it is stored), the last two items and the summary. */
export async function readsOf(base: string, id: string): Promise<JsonAnswer> {
  const whole = await api(base, `/api/v1/contexts/${id}`);
  if (whole.status !== 200) return { status: whole.status };
  const { storage, ...document } = whole.json;
  const tail = await api(base, `/api/v1/contexts/${id}?last=2`);
  const summary = await api(base, `/api/v1/contexts/${id}/summary`);
  const { stored_bytes, compression_ratio, content_encoding, ...counts } = summary.json;
  return {
    status: whole.status,
    document,
    size_bytes: storage.size_bytes,
    sha256: storage.sha256,
    tail: tail.json.content,
    summary: counts,
  };
}
