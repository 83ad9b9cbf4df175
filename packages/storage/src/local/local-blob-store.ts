import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange, ObjectInfo, PutOptions, PutResult } from '../blob-store.ts';
import { BodyMeter } from '../body-meter.ts';
import { bodySource } from '../body-source.ts';
import { BlobNotFoundError } from '../errors/blob-not-found-error.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';
import { assertValidPrefix, assertValidRange } from '../key-rules.ts';
import { createTempFileFor, pruneEmptyDirectories, syncDirectory } from './durable-fs.ts';
import { sidecarPathFor, tempPathFor } from './file-names.ts';
import { mapFsError } from './fs-errors.ts';
import { resolveKeyPath } from './resolve-key-path.ts';
import { readSidecar, writeSidecar } from './sidecar.ts';
import { walkFiles } from './walk-files.ts';

export interface LocalBlobStoreOptions {
  /** The directory that holds every object; created by `check()` and on first write. */
  root: string;
}

/** Objects as files under one directory, written atomically and durably; etags are md5 as for S3 single PUTs. */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';
  readonly #root: string;

  constructor({ root }: LocalBlobStoreOptions) {
    this.#root = resolve(root);
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    const file = resolveKeyPath(this.#root, key);
    const source = bodySource(body);
    const meter = new BodyMeter({ expectedLength: options.contentLength, onProgress: options.onProgress, md5: true });
    let tempPath: string | undefined;
    try {
      options.signal?.throwIfAborted();
      const temp = await createTempFileFor(file);
      tempPath = temp.path;
      // flush: fsync before close, so the rename below never publishes a file the disk has not got.
      await pipeline(source.stream, meter, temp.handle.createWriteStream({ flush: true }), { signal: options.signal });
      const etag = meter.md5Hex();
      // The sidecar lands first: once the data file is visible, its metadata is too.
      await writeSidecar(file, { etag, size: meter.bytes, metadata: options.metadata ?? {} });
      await rename(temp.path, file);
      await syncDirectory(dirname(file));
      return { key, etag, size: meter.bytes, parts: 1, encryption: null };
    } catch (err) {
      source.stream.destroy(); // put owns the body, even when it fails before reading it
      if (tempPath !== undefined) await discard(tempPath);
      // A sidecar written for data that never landed describes nothing.
      if (!(await isFile(file))) await discard(sidecarPathFor(file));
      if (source.failedWith(err) && !options.signal?.aborted) throw err;
      throw mapFsError(err, this.#root, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = resolveKeyPath(this.#root, key);
    if (range) assertValidRange(range);
    // Read through the handle we stat, so a concurrent replace cannot mix two files.
    const handle = await open(file, 'r').catch((err: unknown) => {
      throw isMissing(err) ? new BlobNotFoundError(key, { cause: err }) : mapFsError(err, this.#root);
    });
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new BlobNotFoundError(key); // a folder of other keys
      const { size } = stats;
      if (range && range.start >= size) {
        throw new BlobStoreError(
          'invalid_range',
          `range starts at ${range.start} but "${key}" has ${size} bytes`,
          'ask for a range inside the object',
        );
      }
      return handle.createReadStream(range ? { start: range.start, end: Math.min(range.end, size - 1) } : {});
    } catch (err) {
      await handle.close();
      throw mapFsError(err, this.#root);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const file = resolveKeyPath(this.#root, key);
    try {
      const stats = await stat(file);
      return stats.isFile() ? await this.#info(key, file, stats) : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw mapFsError(err, this.#root);
    }
  }

  async delete(key: string): Promise<void> {
    const file = resolveKeyPath(this.#root, key);
    try {
      await this.#remove(file);
      await pruneEmptyDirectories(dirname(file), this.#root);
    } catch (err) {
      throw mapFsError(err, this.#root);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    try {
      for await (const { key, path, stats } of walkFiles(this.#root, prefix)) {
        yield await this.#info(key, path, stats);
      }
    } catch (err) {
      throw mapFsError(err, this.#root);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    const directories = new Set<string>();
    let removed = 0;
    try {
      for await (const { path } of walkFiles(this.#root, prefix)) {
        await this.#remove(path);
        directories.add(dirname(path));
        removed += 1;
      }
      // Deepest first, so a parent is tried only after its children.
      for (const dir of [...directories].sort((a, b) => b.length - a.length)) {
        await pruneEmptyDirectories(dir, this.#root);
      }
    } catch (err) {
      throw mapFsError(err, this.#root);
    }
    return removed;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.#root, { recursive: true });
      const probe = tempPathFor(join(this.#root, 'check'));
      await writeFile(probe, 'ok', { flag: 'wx', flush: true });
      await rm(probe);
    } catch (err) {
      throw mapFsError(err, this.#root);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  async #info(key: string, file: string, stats: Stats): Promise<ObjectInfo> {
    const sidecar = await readSidecar(file);
    // Without a sidecar that matches the file (copied in by hand, or a crash mid-replace), hash the data.
    const etag = sidecar?.size === stats.size ? sidecar.etag : await md5OfFile(file);
    return {
      key,
      size: stats.size,
      etag,
      metadata: sidecar?.metadata ?? {},
      encryption: null,
      lastModified: stats.mtime,
    };
  }

  async #remove(file: string): Promise<void> {
    for (const path of [file, sidecarPathFor(file)]) {
      // EISDIR: the key names a folder of other keys, not an object, so there is nothing to delete.
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (!isMissing(err) && err.code !== 'EISDIR') throw err;
      });
    }
  }
}

/** Best-effort cleanup after a failed write: the write's own error is the one to report. */
async function discard(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** ENOTDIR: a leading part of the key is an object, so the key itself cannot exist. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
