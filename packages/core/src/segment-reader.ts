import { pipeline, Readable } from 'node:stream';
import type { Segment } from '@ctxvault/db';
import {
  type BlobStore,
  decompressor,
  isCodec,
  type SealPurpose,
  sealedRange,
  UnsealError,
  unseal,
  unsealBuffer,
} from '@ctxvault/storage';
import type { BodyCache, BodyFetch } from './body-cache.ts';
import type { Keyring } from './envelope/keyring.ts';
import type { SegmentLookups, StagingStore } from './ports.ts';
import { byteWindow, documentItemLines, splitLines, TruncatedSegmentError } from './segment-format.ts';

/** Segments opened ahead of the one being streamed: their GETs run while it streams. */
const PREFETCH = 4;

/**
 * Streams the item lines of segments wherever each lives: inline, in staging (not uploaded yet) or
 * in the blob store. Stored segments are immutable, so a cached copy (keyed by segment) needs no
 * re-validation. A segment that yields fewer bytes than its recorded size fails the stream.
 */
export class SegmentReader {
  constructor(
    private readonly segments: SegmentLookups,
    private readonly staging: StagingStore,
    private readonly blobs: BlobStore,
    private readonly cache?: BodyCache,
    private readonly keyring?: Keyring,
  ) {}

  /** The same reader, looking inline bodies and item indexes up in `segments` (e.g. those a read's version came with). */
  using(segments: SegmentLookups): SegmentReader {
    return new SegmentReader(segments, this.staging, this.blobs, this.cache, this.keyring);
  }

  /** The item lines (each ending in `\n`) of `segs` in order; the first segment from its item `skipItems`. */
  async *lines(segs: readonly Segment[], skipItems = 0): AsyncGenerator<Buffer> {
    const opened: Promise<AsyncIterable<Buffer>>[] = [];
    const openAt = (i: number) => {
      const opening = this.open(segs[i]!, i === 0 ? skipItems : 0);
      // a prefetch that fails while an earlier segment streams surfaces when its turn comes
      opening.catch(() => {});
      opened[i] = opening;
    };
    for (let i = 0; i < segs.length; i++) {
      for (let ahead = i; ahead < Math.min(segs.length, i + PREFETCH); ahead++) if (!opened[ahead]) openAt(ahead);
      yield* await opened[i]!;
      delete opened[i];
    }
  }

  /**
   * One item's line (without its `\n`): a ranged read of exactly its bytes where the item index and
   * the storage allow it (inline, or an uncompressed object), else the segment streamed up to it.
   * `known`: the item's bytes of the index (its offset, then the next item's unless it is the
   * last), when the caller has them already.
   */
  async line(seg: Segment, index: number, known?: Buffer | null): Promise<Buffer> {
    if (rangeable(seg)) {
      const offsets = known ?? (await this.segments.loadIndex([seg.id])).get(seg.id)?.item_offsets?.subarray(index * 8);
      if (offsets && offsets.length >= 8) {
        const start = offsets.readDoubleLE(0);
        // the line's end, before its newline
        const end = (offsets.length >= 16 ? offsets.readDoubleLE(8) : seg.size_bytes) - 1;
        return this.bytesOf(seg, start, end);
      }
    }
    for await (const line of splitLines(this.lines([seg], index))) return line;
    throw new TruncatedSegmentError(`segment ${seg.id} has no item ${index}`);
  }

  /**
   * Items of one segment (without their `\n`), as `line` reads them, given each its index and its
   * bytes of the item index when known: those that lie close together in a rangeable segment are
   * read in one range (a search's matches of a common word often do), each other one by itself;
   * up to `parallel` reads at once.
   */
  async linesNear(
    seg: Segment,
    wanted: readonly { index: number; offsets: Buffer | null }[],
    parallel: number,
  ): Promise<Buffer[]> {
    const ranges = wanted.map(({ offsets }) =>
      rangeable(seg) && offsets && offsets.length >= 16
        ? { start: offsets.readDoubleLE(0), end: offsets.readDoubleLE(8) - 1 }
        : null,
    );
    // runs of items whose ranges follow closely, each run within one read of bounded size
    const runs: { from: number; to: number }[] = [];
    for (let k = 0; k < wanted.length; k++) {
      const run = runs.at(-1);
      const prev = ranges[k - 1];
      const here = ranges[k];
      const joins =
        run &&
        prev &&
        here &&
        run.to === k - 1 &&
        here.start >= prev.end &&
        here.start - prev.end <= NEAR_GAP_BYTES &&
        here.end - ranges[run.from]!.start <= NEAR_SPAN_BYTES;
      if (joins) run.to = k;
      else runs.push({ from: k, to: k });
    }
    const lines: Buffer[] = new Array(wanted.length);
    let next = 0;
    const readRuns = async () => {
      while (next < runs.length) {
        const { from, to } = runs[next++]!;
        const first = ranges[from];
        if (!first) {
          lines[from] = await this.line(seg, wanted[from]!.index, wanted[from]!.offsets);
          continue;
        }
        const bytes = await this.bytesOf(seg, first.start, ranges[to]!.end);
        for (let j = from; j <= to; j++)
          lines[j] = bytes.subarray(ranges[j]!.start - first.start, ranges[j]!.end - first.start);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, runs.length) }, readRuns));
    return lines;
  }

  /** Bytes `start` (included) to `end` (excluded) of a rangeable segment's items. */
  private async bytesOf(seg: Segment, start: number, end: number): Promise<Buffer> {
    if (seg.state === 'inline') {
      const body = (await this.segments.loadBodies([seg.id])).get(seg.id);
      if (!body) throw new TruncatedSegmentError(`inline segment ${seg.id} has no body`);
      return body.subarray(start, end);
    }
    const parts: Buffer[] = [];
    for await (const chunk of await this.blobs.get(seg.object_key as string, { start, end: end - 1 }))
      parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  private async open(seg: Segment, skipItems: number): Promise<AsyncIterable<Buffer>> {
    if (seg.item_count === 0 || skipItems >= seg.item_count) return chunks();
    if (seg.format === 'document') return skipLines(documentItemLines(await this.source(seg, 0)), skipItems);
    const skip = skipItems === 0 ? 0 : await this.offsetOf(seg, skipItems);
    if (seg.state === 'staged' || !this.cache?.accepts(seg.size_bytes)) {
      return exactly(await this.source(seg, skip), seg.size_bytes - skip, seg);
    }
    // immutable: a cached copy needs no re-validation, and concurrent misses share one fetch
    const found = await this.cache.getOrClaim(seg.id, seg.version);
    if ('body' in found) return chunks(found.body.subarray(skip));
    const { fetch } = found;
    if (seg.state === 'inline') {
      // the whole body is in hand already: cache it, so the next read of this version's tail (the
      // agent's next turn) need not have it sent by Postgres again (ContextService.opened)
      const body = await this.inlineBody(seg).catch(async (err: unknown) => {
        await fetch.done(undefined);
        throw err;
      });
      await fetch.done(body);
      return chunks(body.subarray(skip));
    }
    if (skip > 0) {
      // a tail read does not fetch the whole segment: it leaves the caching to a whole read
      await fetch.done(undefined);
      return exactly(await this.source(seg, skip), seg.size_bytes - skip, seg);
    }
    const bytes = await this.source(seg, 0).catch(async (err: unknown) => {
      await fetch.done(undefined);
      throw err;
    });
    return teeIntoCache(exactly(bytes, seg.size_bytes, seg), fetch);
  }

  /** The byte offset of item `index` of a segment, from its item index. */
  private async offsetOf(seg: Segment, index: number): Promise<number> {
    const offsets = (await this.segments.loadIndex([seg.id])).get(seg.id)?.item_offsets;
    if (!offsets) throw new TruncatedSegmentError(`segment ${seg.id} has no item index`);
    return offsets.readDoubleLE(index * 8);
  }

  /** The segment's item bytes from byte `skip` on (an object's trailer is not part of them), opened when sealed. */
  private async source(seg: Segment, skip: number): Promise<AsyncIterable<Buffer>> {
    if (seg.state === 'inline') return chunks((await this.inlineBody(seg)).subarray(skip));
    if (seg.state === 'staged') return this.staged(seg, skip);
    if (!seg.object_key) throw new TruncatedSegmentError(`stored segment ${seg.id} has no object key`);
    const end = seg.format === 'lines' ? seg.size_bytes : Number.POSITIVE_INFINITY;
    if (seg.content_encoding === 'identity') {
      if (!seg.data_key_id) {
        return this.blobs.get(seg.object_key, { start: skip, end: Math.min(end, Number.MAX_SAFE_INTEGER) - 1 });
      }
      // the frames holding the items from `skip` on: still one ranged GET
      const range = sealedRange(skip, end - 1);
      const sealed = await this.blobs.get(seg.object_key, { start: range.start, end: range.end });
      const key = await this.sealKey(seg, 'object');
      return byteWindow(unseal(key, sealed, { firstFrame: range.firstFrame, toEnd: false }), range.skip, end - skip);
    }
    const codec = seg.content_encoding;
    if (!isCodec(codec)) throw new TruncatedSegmentError(`segment ${seg.id} has unknown encoding "${codec}"`);
    const stored = await this.blobs.get(seg.object_key);
    const encoded = seg.data_key_id
      ? Readable.from(unseal(await this.sealKey(seg, 'object'), stored, { toEnd: true }))
      : stored;
    const decoded: Readable = pipeline(encoded, decompressor(codec), () => {});
    return byteWindow(decoded, skip, end - skip);
  }

  /** An inline segment's item bytes, opened when sealed. */
  private async inlineBody(seg: Segment): Promise<Buffer> {
    const stored = (await this.segments.loadBodies([seg.id])).get(seg.id);
    if (!stored) throw new TruncatedSegmentError(`inline segment ${seg.id} has no body`);
    const body = seg.data_key_id ? await unsealBuffer(await this.sealKey(seg, 'inline'), stored) : stored;
    if (seg.format !== 'lines') return body;
    if (body.length < seg.size_bytes) {
      throw new TruncatedSegmentError(`inline segment ${seg.id} holds ${body.length} of ${seg.size_bytes} bytes`);
    }
    return body.subarray(0, seg.size_bytes);
  }

  private sealKey(seg: Segment, purpose: SealPurpose): Promise<Buffer> {
    if (!this.keyring) {
      throw new UnsealError(
        `segment ${seg.id} is sealed with data key ${seg.data_key_id}, but no master key is configured (encryption.*)`,
      );
    }
    return this.keyring.sealKeyOf(seg.data_key_id!, seg.id, purpose);
  }

  /**
   * A staged segment's bytes. A worker may store it and remove its staging while we read: then the
   * rest comes from its object.
   */
  private async *staged(seg: Segment, skip: number): AsyncGenerator<Buffer> {
    let delivered = 0;
    try {
      const staged = this.staging.read(seg.context_id, seg.version);
      const plain = seg.data_key_id ? unseal(await this.sealKey(seg, 'staged'), staged, { toEnd: true }) : staged;
      for await (const chunk of byteWindow(plain, skip, seg.size_bytes - skip)) {
        delivered += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      return;
    } catch (err) {
      const fresh = await this.segments.findSegment(seg.id);
      if (fresh?.state !== 'stored') throw err;
      yield* await this.source(fresh, skip + delivered);
    }
  }
}

/**
 * Tees a whole segment into the cache as it streams; only one read to its end is kept (and handed
 * to the reads waiting on it). A read abandoned midway releases its waiters, who fetch for themselves.
 */
async function* teeIntoCache(bytes: AsyncIterable<Buffer>, fetch: BodyFetch): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of bytes) {
      parts.push(chunk);
      yield chunk;
    }
    await fetch.done(Buffer.concat(parts));
  } finally {
    await fetch.done(undefined);
  }
}

/** Fails unless the stream yields exactly `size` bytes: a cut-off segment never looks complete. */
async function* exactly(bytes: AsyncIterable<Buffer>, size: number, seg: Segment): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of bytes) {
    seen += chunk.length;
    yield chunk;
  }
  if (seen !== size) throw new TruncatedSegmentError(`segment ${seg.id} ended after ${seen} of ${size} bytes`);
}

async function* skipLines(lines: AsyncIterable<Buffer>, skip: number): AsyncGenerator<Buffer> {
  let index = 0;
  for await (const line of lines) if (index++ >= skip) yield line;
}

async function* chunks(...buffers: Buffer[]): AsyncGenerator<Buffer> {
  yield* buffers;
}

/** Items closer than this in a segment are read in one range by `linesNear` (the bytes between come along). */
const NEAR_GAP_BYTES = 64 * 1024;
/** ... and no range `linesNear` reads is longer than this. */
const NEAR_SPAN_BYTES = 1024 * 1024;

/** Whether an item of this segment can be read by its byte range: item lines, in the clear, not compressed. */
function rangeable(seg: Segment): boolean {
  return (
    seg.format === 'lines' &&
    !seg.data_key_id &&
    (seg.state === 'inline' || (seg.state === 'stored' && seg.content_encoding === 'identity' && !!seg.object_key))
  );
}
