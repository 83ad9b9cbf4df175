import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import type { ContextRepository, NewSegment, SegmentRepository } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { CODECS, type Codec, codecSuffix, decompressor, type ObjectInfo, parseObjectKey } from '@ctxvault/storage';
import type { CoreDeps } from '../ports.ts';
import { type SegmentTrailer, splitLines } from '../segment-format.ts';
import type { Tokenizer } from '../tokens.ts';
import { rowFrom } from './importer.ts';
import { SegmentIndexer } from './segment-indexer.ts';
import { HELD_CONTEXT_BYTES, TaskPool } from './task-pool.ts';

export interface BucketRebuilderDeps extends Pick<CoreDeps, 'blobs' | 'settings' | 'logger'> {
  contexts: Pick<ContextRepository, 'findAny'>;
  segments: Pick<SegmentRepository, 'insertWhole'>;
  tokenizer: Tokenizer;
  /** item bytes of a context's objects kept from their check for their index, not read again (default 8 MiB) */
  heldContextBytes?: number;
}

export interface RebuildReport {
  /** contexts found in the bucket */
  contexts: number;
  /** contexts whose references were recreated by this run */
  rebuilt: number;
  /** contexts that already had their references (an earlier run, or never lost): left as they are */
  present: number;
  objects: number;
  /** what could not be rebuilt, and why: by context, or by object key when no context could be named */
  failed: { context_id?: string; key?: string; reason: string }[];
}

/** What one object says about itself once its items have been read and checked. */
interface Inspected {
  info: ObjectInfo;
  codec: Codec;
  trailer: SegmentTrailer | null;
  /** why it cannot be used, when it cannot */
  problem: string | null;
  /** its item lines (without their `\n`) when they were kept from the check; else read again to be indexed */
  items: Buffer[] | null;
  /** the bytes of its items */
  size: number;
}

/**
 * Recreates the references (contexts, versions and segments rows) of every context from the
 * self-describing objects of the bucket (docs/disaster-recovery.md): each object's items are read
 * and checked against the sha256, size and count of its trailer; the newest list of segments a
 * trailer names is the context's current version, with compacted objects put in place of the runs
 * they merged. A context whose references exist is left alone, so a run that stopped can be run
 * again, and a second run changes nothing. Each context is written in one transaction.
 */
export class BucketRebuilder {
  constructor(private readonly deps: BucketRebuilderDeps) {}

  async run(onProgress?: (done: number, total: number) => void): Promise<RebuildReport> {
    const report: RebuildReport = { contexts: 0, rebuilt: 0, present: 0, objects: 0, failed: [] };
    const prefix = `${this.deps.settings.pathPrefix.replace(/\/$/, '')}/`;
    // one listing to count (the objects of a context come together, in key order), one to rebuild
    let total = 0;
    let last: string | null = null;
    for await (const info of this.deps.blobs.list(prefix)) {
      const id = parseObjectKey(info.key)?.id ?? null;
      if (id && id !== last) total++;
      last = id ?? last;
    }
    let group: ObjectInfo[] = [];
    let groupId: string | null = null;
    let done = 0;
    // contexts are rebuilt a few at a time (each on its own objects, in its own transaction)
    const rebuilding = new TaskPool(CONCURRENT_CONTEXTS);
    const flush = async () => {
      if (groupId === null) return;
      report.contexts++;
      const [id, objects] = [groupId, group];
      await rebuilding.run(async () => {
        await this.context(id, objects, report);
        onProgress?.(++done, Math.max(total, report.contexts));
      });
    };
    for await (const info of this.deps.blobs.list(prefix)) {
      report.objects++;
      const parsed = parseObjectKey(info.key);
      if (!parsed) {
        report.failed.push({ key: info.key, reason: 'not a key ctxvault writes: left alone' });
        continue;
      }
      if (parsed.id !== groupId) {
        await flush();
        group = [];
        groupId = parsed.id;
      }
      group.push(info);
    }
    await flush();
    await rebuilding.drain();
    onProgress?.(report.contexts, report.contexts);
    return report;
  }

  private async context(id: string, objects: ObjectInfo[], report: RebuildReport): Promise<void> {
    if (await this.deps.contexts.findAny(id)) {
      report.present++;
      return;
    }
    const fail = (reason: string) => report.failed.push({ context_id: id, reason });
    const found = new Map<string, Inspected>();
    // the items of the first objects are kept from their check for their index: each is read once
    let held = 0;
    for (const info of objects) {
      const inspected = await this.inspect(id, info, (this.deps.heldContextBytes ?? HELD_CONTEXT_BYTES) - held);
      held += inspected.size;
      if (!inspected.trailer) {
        fail(`${info.key}: ${inspected.problem}`);
        continue;
      }
      found.set(inspected.trailer.segment_id, inspected);
    }
    // a trailer is trusted for the list it names even when the items before it are damaged: the
    // damage is reported below if the current version needs that segment
    const usable = [...found.values()].filter((o) => o.trailer?.list && o.trailer.context);
    const newest = usable.sort((a, b) => newer(b.trailer!, a.trailer!))[0];
    if (!newest) {
      fail('no object names its version and fields (objects written before rebuilds were possible?)');
      return;
    }
    const { list, context } = newest.trailer as Required<SegmentTrailer>;
    const segmentIds = withCompactions(
      list.segments,
      usable.map((o) => o.trailer!),
    );
    const chain: Inspected[] = [];
    let nextItem = 0;
    for (const segmentId of segmentIds) {
      const object = found.get(segmentId);
      if (!object) {
        fail(
          `segment ${segmentId} of version ${list.version} is not in the bucket (kept inline in the lost database, or removed)`,
        );
        return;
      }
      if (object.problem) {
        fail(`segment ${segmentId} of version ${list.version}: ${object.problem}`);
        return;
      }
      if (object.trailer!.first_item !== nextItem) {
        fail(`segment ${segmentId} starts at item ${object.trailer!.first_item}, not ${nextItem}`);
        return;
      }
      nextItem += object.trailer!.item_count;
      chain.push(object);
    }
    const segments: NewSegment[] = [];
    for (const object of chain) segments.push(await this.segment(object, context.model_id, context.format));
    const writtenAt = usable
      .map((o) => o.trailer!.written_at ?? '')
      .sort()
      .at(-1);
    const row = rowFrom(
      {
        ...context,
        system: context.system,
        version: list.version,
        updated_at: writtenAt || context.created_at,
      },
      context.tenant_id,
    );
    const kind = list.version === 1 ? 'create' : chain.length === 1 ? 'replace' : 'append';
    const created = new Date(newest.trailer!.written_at ?? context.created_at);
    const outcome = await this.deps.segments.insertWhole(
      row,
      segments,
      [{ version: list.version, kind, created_at: created, segments: segmentIds }],
      this.deps.blobs.kind,
    );
    if (outcome === 'exists') report.present++;
    else report.rebuilt++;
  }

  /**
   * Reads an object whole: its items checked against its trailer (count, size, sha256), and kept
   * when they come to at most `keepBytes`.
   */
  private async inspect(id: string, info: ObjectInfo, keepBytes: number): Promise<Inspected> {
    const parsed = parseObjectKey(info.key);
    const codec = CODECS.find((c) => codecSuffix(c) === parsed?.codec) ?? 'identity';
    const none = (problem: string): Inspected => ({ info, codec, trailer: null, problem, items: null, size: 0 });
    if (!parsed?.segment)
      return none('a whole document of the layout before segments: it names no fields to rebuild from');
    const hash = createHash('sha256');
    let size = 0;
    let items = 0;
    let previous: Buffer | null = null;
    let kept: Buffer[] | null = [];
    try {
      for await (const line of splitLines(await this.open(info.key, codec))) {
        if (previous) {
          hash.update(previous);
          hash.update(NEWLINE);
          size += previous.length + 1;
          items++;
          if (size > keepBytes) kept = null;
          kept?.push(previous);
        }
        previous = line;
      }
    } catch (err) {
      return none(`could not be read (${err instanceof Error ? err.message : String(err)})`);
    }
    let trailer: SegmentTrailer;
    try {
      trailer = JSON.parse(previous?.toString('utf8') ?? '') as SegmentTrailer;
    } catch {
      return none('its last line is not a trailer');
    }
    if (trailer.ctxvault_segment !== 1 || trailer.context_id !== id || trailer.segment_id !== parsed.segment) {
      return none('its trailer names another context or segment');
    }
    const sha256 = hash.digest('hex');
    const problem =
      trailer.sha256 !== sha256
        ? `sha256 of its items is ${sha256}, its trailer says ${trailer.sha256}`
        : trailer.size_bytes !== size || trailer.item_count !== items
          ? `${items} items / ${size} bytes, its trailer says ${trailer.item_count} / ${trailer.size_bytes}`
          : null;
    return { info, codec, trailer, problem, items: kept, size: kept ? size : 0 };
  }

  /** A checked object as a stored segment, its item index (roles, offsets, tokens) built from its items. */
  private async segment(object: Inspected, modelId: string | null, format: Format): Promise<NewSegment> {
    const trailer = object.trailer!;
    const indexer = new SegmentIndexer(format, await this.deps.tokenizer.forModel(modelId, format), null);
    const items =
      object.items ??
      (async function* (source: AsyncIterable<Buffer>, count: number) {
        let n = 0;
        for await (const line of source) if (n++ < count) yield line;
      })(splitLines(await this.open(object.info.key, object.codec)), trailer.item_count);
    for await (const _ of indexer.pass(items));
    const head = await this.deps.blobs.head(object.info.key);
    return {
      id: trailer.segment_id,
      context_id: trailer.context_id,
      version: trailer.version,
      // the rebuild reads objects in the clear: sealed objects (envelope encryption) are not rebuilt yet
      data_key_id: null,
      // unknown here: a token-budget read then reads every item (safe)
      has_calls: null,
      kind: trailer.kind ?? 'write',
      first_item: trailer.first_item,
      ...indexer.result(),
      state: 'stored',
      body: null,
      object_key: object.info.key,
      etag: head?.etag ?? object.info.etag,
      stored_bytes: head?.size ?? object.info.size,
      content_encoding: object.codec,
      encryption: head?.encryption ?? object.info.encryption,
    };
  }

  private async open(key: string, codec: Codec): Promise<AsyncIterable<Buffer>> {
    const body: Readable = await this.deps.blobs.get(key);
    return codec === 'identity' ? body : pipeline(body, decompressor(codec), () => {});
  }
}

const NEWLINE = Buffer.from('\n');
/** Contexts rebuilt at once: their object reads overlap, each holding one object's read buffers. */
const CONCURRENT_CONTEXTS = 4;

/** Whether trailer `a` names a later list than `b`: a higher version, or the same one written later. */
function newer(a: SegmentTrailer, b: SegmentTrailer): number {
  const byVersion = (a.list?.version ?? 0) - (b.list?.version ?? 0);
  return byVersion !== 0 ? byVersion : (a.written_at ?? '').localeCompare(b.written_at ?? '');
}

/**
 * `segments` with each run a compacted object merged put in its place, oldest compaction first:
 * the merged segments may have been removed since, the compacted object holds the same items.
 */
function withCompactions(segments: readonly string[], trailers: readonly SegmentTrailer[]): string[] {
  const list = [...segments];
  const compactions = trailers
    .filter((t) => t.kind === 'compacted' && t.merged?.length)
    .sort((a, b) => (a.written_at ?? '').localeCompare(b.written_at ?? ''));
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of compactions) {
      const merged = c.merged!;
      const at = list.indexOf(merged[0]!);
      if (at === -1 || list.includes(c.segment_id)) continue;
      if (merged.every((id, i) => list[at + i] === id)) {
        list.splice(at, merged.length, c.segment_id);
        changed = true;
      }
    }
  }
  return list;
}
