import { pipeline, Readable } from 'node:stream';
import type { ContextRow } from '@ctxvault/db';
import { type BlobStore, decompressor, isCodec } from '@ctxvault/storage';
import type { BodyCache } from './body-cache.ts';
import { CorruptDocumentError } from './document.ts';
import type { ContextStore, StagingStore } from './ports.ts';

/**
 * Opens the stored document of a row's current version wherever it lives: inline, in staging
 * (pending or failed uploads) or in the blob store.
 */
export class BodyReader {
  constructor(
    private readonly contexts: ContextStore,
    private readonly staging: StagingStore,
    private readonly blobs: BlobStore,
    private readonly cache?: BodyCache,
  ) {}

  async open(row: ContextRow): Promise<Readable> {
    if (row.status !== 'stored' || !this.cache?.accepts(Number(row.size_bytes))) return this.openUncached(row);
    const found = await this.cache.getOrClaim(row.id, row.version);
    if ('body' in found) return Readable.from([found.body]);
    const { fetch } = found;
    const body = await this.openUncached(row).catch(async (err: unknown) => {
      await fetch.done(undefined);
      throw err;
    });
    // tee into the cache as it streams; only a body read to its end is kept (and shared with waiters)
    const teed = Readable.from(
      (async function* () {
        const chunks: Buffer[] = [];
        for await (const chunk of body) {
          chunks.push(chunk as Buffer);
          yield chunk as Buffer;
        }
        await fetch.done(Buffer.concat(chunks));
      })(),
    );
    // a read abandoned (or never started) releases its waiters, who then fetch for themselves
    teed.once('close', () => void fetch.done(undefined));
    return teed;
  }

  private async openUncached(row: ContextRow): Promise<Readable> {
    if (row.status === 'pending' || row.status === 'failed') {
      if (await this.staging.exists(row.id, row.version)) return this.staging.read(row.id, row.version);
      // a worker stored it between our read of the row and now: read the row again
      const fresh = await this.contexts.findAny(row.id);
      if (!fresh || fresh.version !== row.version || fresh.status === 'pending') {
        throw new CorruptDocumentError(`staged body of ${row.id} v${row.version} is gone`);
      }
      return this.openUncached(fresh);
    }
    if (row.storage_provider === 'database') {
      const body = await this.contexts.loadInlineBody(row.id, row.version);
      if (!body) throw new CorruptDocumentError(`inline body of ${row.id} v${row.version} is missing`);
      return Readable.from([body]);
    }
    if (!row.storage_key) throw new CorruptDocumentError(`stored context ${row.id} has no storage key`);
    const stored = await this.blobs.get(row.storage_key);
    const codec = row.content_encoding;
    if (codec === 'identity') return stored;
    if (!isCodec(codec)) throw new CorruptDocumentError(`context ${row.id} is stored with unknown encoding "${codec}"`);
    return pipeline(stored, decompressor(codec), () => {});
  }
}
