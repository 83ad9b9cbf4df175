// Export, import and rebuild as `pnpm bench --only archive` measures them: the CLI commands run
// against a deployment's database and bucket, each beside a bare baseline of the same bytes in the
// same run — every object read once with the SDK (what an export or a rebuild must at least read),
// and the archive's bytes written to local disk (what an import onto local disk must at least write).
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, openSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ROOT } from '../helpers/build.ts';
import { CLI_ARGS } from '../helpers/processes.ts';

/** `ctxvault <args…>` to its end, stdout into `stdoutFile` when given; its duration in ms. Throws unless it exits 0. */
export function timeCli(args: string[], env: Record<string, string>, stdoutFile?: string): Promise<number> {
  const out = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, MCP_LOGGING_LEVEL: 'warn' },
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => {
      if (typeof out === 'number') closeSync(out);
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`ctxvault ${args.join(' ')} exited ${code}:\n${stderr}`));
    });
  });
}

/** Reads every object under `prefix` once with the SDK, one after the other; ms and bytes. */
export async function bareReadAll(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      bytes += (await got.Body!.transformToByteArray()).length;
    }
    token = page.NextContinuationToken;
  } while (token);
  return { ms: performance.now() - t0, bytes };
}

/** Copies a file through a stream (what writing an archive's bytes to local disk costs at least); ms. */
export async function bareCopy(from: string, to: string): Promise<number> {
  const t0 = performance.now();
  await pipeline(createReadStream(from), createWriteStream(to));
  return performance.now() - t0;
}
