import { type FileHandle, mkdir, open, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { tempPathFor } from './file-names.ts';

/** Makes renames and unlinks in `dir` survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `file` whole or not at all: a synced temporary file renamed over it. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = tempPathFor(file);
  try {
    await writeFile(temp, data, { flag: 'wx', flush: true });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Creates a temporary file beside `file`, making its directory first. */
export async function createTempFileFor(file: string): Promise<{ path: string; handle: FileHandle }> {
  for (let attempt = 1; ; attempt += 1) {
    await mkdir(dirname(file), { recursive: true });
    const path = tempPathFor(file);
    try {
      return { path, handle: await open(path, 'wx') };
    } catch (err) {
      // A concurrent delete may have pruned the directory between mkdir and open.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
    }
  }
}

/** Removes `dir` and its ancestors below `root` for as long as they are empty. */
export async function pruneEmptyDirectories(dir: string, root: string): Promise<void> {
  const rootPath = resolve(root);
  for (let current = resolve(dir); current.startsWith(rootPath + sep); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or already gone): its ancestors are not empty either
    }
  }
}
