import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isReservedName } from './file-names.ts';

export interface WalkedFile {
  key: string;
  path: string;
  stats: Stats;
}

/** Every object file under `root` whose key starts with `prefix`, descending only where one can match. */
export async function* walkFiles(root: string, prefix: string): AsyncGenerator<WalkedFile> {
  yield* walk(root, '', prefix);
}

async function* walk(dir: string, dirKey: string, prefix: string): AsyncGenerator<WalkedFile> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // not created yet, or removed meanwhile
    throw err;
  }
  for (const name of names) {
    const key = dirKey + name;
    const mayMatch = key.startsWith(prefix) || prefix.startsWith(`${key}/`);
    if (!mayMatch || isReservedName(name)) continue;
    const path = join(dir, name);
    const stats = await stat(path).catch(ignoreVanished);
    if (stats?.isDirectory()) yield* walk(path, `${key}/`, prefix);
    else if (stats?.isFile() && key.startsWith(prefix)) yield { key, path, stats };
  }
}

function ignoreVanished(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
