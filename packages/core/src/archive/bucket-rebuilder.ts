import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import type { ContextRepository, NewSegment, SegmentRepository, VersionRow } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import {
  CODECS,
  type Codec,
  codecSuffix,
  decompressor,
  type ObjectInfo,
  parseObjectKey,
  sealKey,
  unseal,
} from '@ctxvault/storage';
import { newContextRow } from '../context-rows.ts';
import type { CoreDeps } from '../ports.ts';
import { type SegmentTrailer, splitLines } from '../segment-format.ts';
import type { Tokenizer } from '../tokens.ts';
import { type FoundKey, isSealed, recoverDataKey } from './bucket-keys.ts';
import { kindOf, type ListingTrailer, namesList, newestLists, segmentsOfList } from './bucket-versions.ts';
import { SegmentIndexer } from './segment-indexer.ts';

export interface BucketRebuilderDeps extends Pick<CoreDeps, 'blobs' | 'settings' | 'logger' | 'keyring'> {
  contexts: Pick<ContextRepository, 'findAny'>;
  segments: Pick<SegmentRepository, 'insertWhole'>;
  tokenizer: Tokenizer;
}

export interface RebuildReport {
  /** contexts found in the bucket */
  contexts: number;
  /** contexts whose references were recreated by this run */
  rebuilt: number;
  /** contexts that already had their references (an earlier run, or never lost): left as they are */
  present: number;
  objects: number;
  /** versions recreated by this run (current and kept older ones) */
  versions: number;
  /** older versions named by a trailer whose segments are no longer all in the bucket (collected): not recreated */
  versions_not_in_bucket: number;
  /** what could not be rebuilt, and why: by context, or by object key when no context could be named */
  failed: { context_id?: string; key?: string; reason: string }[];
}

/** What one object says about itself once its items have been read (opened when sealed) and checked. */
interface Inspected {
  head: ObjectInfo;
  codec: Codec;
  /** the key that opens it, when it is sealed */
  sealKey: Buffer | null;
  trailer: SegmentTrailer | null;
  /** why it cannot be used, when it cannot */
  problem: string | null;
}

/** A version to recreate, its segments checked and in order. */
interface Rebuilt {
  trailer: ListingTrailer;
  chain: Inspected[];
}

/**
 * Recreates the references (contexts, versions, segments and data keys rows) of every context from
 * the self-describing objects of the bucket (docs/disaster-recovery.md): each object is opened with
 * the data key its metadata carries wrapped when it is sealed, and its items are checked against the
 * sha256, size and count of its trailer; each list of segments a trailer names is a version (the
 * highest the current one), with the runs its compactions merged replaced by the compacted objects. A
 * context whose references exist is left alone, so a run that stopped can be run again, and a
 * second run changes nothing. Each context is written in one transaction.
 */
export class BucketRebuilder {
  constructor(private readonly deps: BucketRebuilderDeps) {}

  async run(onProgress?: (done: number, total: number) => void): Promise<RebuildReport> {
    const report: RebuildReport = {
      contexts: 0,
      rebuilt: 0,
      present: 0,
      objects: 0,
      versions: 0,
      versions_not_in_bucket: 0,
      failed: [],
    };
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
    const running = new Set<Promise<void>>();
    const flush = async () => {
      if (groupId === null) return;
      report.contexts++;
      const contextId = groupId;
      const one: Promise<void> = this.context(contextId, group, report)
        // a dependency failing for one context (KMS, the database) is reported; a later run retries it
        .catch((err: unknown) =>
          report.failed.push({ context_id: contextId, reason: err instanceof Error ? err.message : String(err) }),
        )
        .then(() => {
          running.delete(one);
          onProgress?.(++done, Math.max(total, report.contexts));
        });
      running.add(one);
      if (running.size >= CONCURRENT_CONTEXTS) await Promise.race(running);
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
    await Promise.all(running);
    onProgress?.(report.contexts, report.contexts);
    return report;
  }

  private async context(id: string, objects: ObjectInfo[], report: RebuildReport): Promise<void> {
    if (await this.deps.contexts.findAny(id)) {
      report.present++;
      return;
    }
    const fail = (reason: string) => report.failed.push({ context_id: id, reason });
    const opened = await this.openAll(id, objects, fail);
    if (!opened) return;
    const { found, dataKey } = opened;
    // a trailer is trusted for the list it names even when the items before it are damaged: the
    // damage is reported below if a version needs that segment
    const trailers = [...found.values()].map((o) => o.trailer!);
    const lists = newestLists(trailers.filter(namesList));
    const current = Math.max(0, ...lists.keys());
    if (current === 0) {
      fail('no object names its version and fields (objects written before rebuilds were possible?)');
      return;
    }
    const versions: Rebuilt[] = [];
    for (const trailer of [...lists.values()].sort((a, b) => a.list.version - b.list.version)) {
      const version = this.chainOf(trailer, trailers, found);
      if ('chain' in version) versions.push({ trailer, chain: version.chain });
      else if (trailer.list.version === current) {
        fail(version.problem);
        return;
      } else if (version.missing) report.versions_not_in_bucket++;
      else fail(`version ${trailer.list.version} not rebuilt: ${version.problem}`);
    }
    const newest = versions.at(-1)!.trailer;
    const segments = new Map<string, NewSegment>();
    for (const { trailer, chain } of versions) {
      for (const object of chain) {
        const segmentId = object.trailer!.segment_id;
        if (segments.has(segmentId)) continue;
        const { model_id, format } = trailer.context;
        segments.set(segmentId, await this.segment(object, model_id, format, dataKey?.id ?? null));
      }
    }
    const writtenAt = trailers
      .map((t) => t.written_at ?? '')
      .sort()
      .at(-1);
    const row = newContextRow(
      { ...newest.context, version: current },
      {
        status: 'stored',
        data_key_id: dataKey?.id ?? null,
        updated_at: new Date(writtenAt || newest.context.created_at),
      },
    );
    if (dataKey) await this.deps.keyring!.storeFound({ ...dataKey, tenantId: row.tenant_id, contextId: id });
    const outcome = await this.deps.segments.insertWhole(
      row,
      [...segments.values()],
      versions.map(({ trailer, chain }) => versionRow(trailer, chain)),
      this.deps.blobs.kind,
    );
    if (outcome === 'exists') report.present++;
    else {
      report.rebuilt++;
      report.versions += versions.length;
    }
  }

  /**
   * Every object of a context read and checked, by segment id, with the context's data key when
   * some are sealed; null (reported) when that key does not open.
   */
  private async openAll(
    id: string,
    objects: readonly ObjectInfo[],
    fail: (reason: string) => void,
  ): Promise<{ found: Map<string, Inspected>; dataKey: FoundKey | null } | null> {
    // the listing may leave metadata out: each object's own says whether (and with what) it is sealed
    const heads: ObjectInfo[] = [];
    for (const info of objects) heads.push((await this.deps.blobs.head(info.key)) ?? info);
    const sealed = heads.filter(isSealed);
    let dataKey: FoundKey | null = null;
    if (sealed.length) {
      try {
        dataKey = await recoverDataKey(this.deps.keyring, id, sealed);
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
        return null;
      }
    }
    const found = new Map<string, Inspected>();
    for (const head of heads) {
      const inspected = await this.inspect(id, head, isSealed(head) ? dataKey : null);
      if (!inspected.trailer) fail(`${head.key}: ${inspected.problem}`);
      else found.set(inspected.trailer.segment_id, inspected);
    }
    return { found, dataKey };
  }

  /** The checked objects of the version a trailer names, in order; or why there are none. */
  private chainOf(
    named: ListingTrailer,
    trailers: readonly SegmentTrailer[],
    found: ReadonlyMap<string, Inspected>,
  ): { chain: Inspected[] } | { missing: boolean; problem: string } {
    const { version } = named.list;
    const chain: Inspected[] = [];
    let nextItem = 0;
    for (const segmentId of segmentsOfList(named, trailers, (s) => found.has(s))) {
      const object = found.get(segmentId);
      if (!object) {
        const problem = `segment ${segmentId} of version ${version} is not in the bucket (kept inline in the lost database, or removed)`;
        return { missing: true, problem };
      }
      if (object.problem)
        return { missing: false, problem: `segment ${segmentId} of version ${version}: ${object.problem}` };
      if (object.trailer!.first_item !== nextItem) {
        return {
          missing: false,
          problem: `segment ${segmentId} starts at item ${object.trailer!.first_item}, not ${nextItem}`,
        };
      }
      nextItem += object.trailer!.item_count;
      chain.push(object);
    }
    return { chain };
  }

  /** Reads an object whole (opened with its seal key when sealed): its items checked against its trailer. */
  private async inspect(id: string, head: ObjectInfo, dataKey: FoundKey | null): Promise<Inspected> {
    const parsed = parseObjectKey(head.key);
    const codec = CODECS.find((c) => codecSuffix(c) === parsed?.codec) ?? 'identity';
    const sealKeyOf = parsed?.segment && dataKey ? sealKey(dataKey.key, parsed.segment, 'object') : null;
    const none = (problem: string): Inspected => ({ head, codec, sealKey: sealKeyOf, trailer: null, problem });
    if (!parsed?.segment)
      return none('a whole document of the layout before segments: it names no fields to rebuild from');
    const hash = createHash('sha256');
    let size = 0;
    let items = 0;
    let previous: Buffer | null = null;
    try {
      for await (const line of splitLines(await this.open(head.key, codec, sealKeyOf))) {
        if (previous) {
          hash.update(previous);
          hash.update(NEWLINE);
          size += previous.length + 1;
          items++;
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
    return { head, codec, sealKey: sealKeyOf, trailer, problem };
  }

  /** A checked object as a stored segment, its item index (roles, offsets, tokens) built from its items. */
  private async segment(
    object: Inspected,
    modelId: string | null,
    format: Format,
    dataKeyId: string | null,
  ): Promise<NewSegment> {
    const trailer = object.trailer!;
    const { head } = object;
    const indexer = new SegmentIndexer(format, await this.deps.tokenizer.forModel(modelId, format), null);
    const items = (async function* (source: AsyncIterable<Buffer>, count: number) {
      let n = 0;
      for await (const line of source) if (n++ < count) yield line;
    })(splitLines(await this.open(head.key, object.codec, object.sealKey)), trailer.item_count);
    for await (const _ of indexer.pass(items));
    return {
      id: trailer.segment_id,
      context_id: trailer.context_id,
      version: trailer.version,
      data_key_id: object.sealKey ? dataKeyId : null,
      kind: trailer.kind ?? 'write',
      first_item: trailer.first_item,
      ...indexer.result(),
      state: 'stored',
      body: null,
      object_key: head.key,
      etag: head.etag,
      stored_bytes: head.size,
      content_encoding: object.codec,
      encryption: head.encryption,
    };
  }

  /** An object's plaintext: opened (when sealed), then decompressed. */
  private async open(key: string, codec: Codec, sealKeyOf: Buffer | null): Promise<AsyncIterable<Buffer>> {
    const stored: Readable = await this.deps.blobs.get(key);
    const body = sealKeyOf ? Readable.from(unseal(sealKeyOf, stored, { toEnd: true })) : stored;
    return codec === 'identity' ? body : pipeline(body, decompressor(codec), () => {});
  }
}

const NEWLINE = Buffer.from('\n');
/** Contexts rebuilt at once: their object reads overlap, each holding one object's read buffers. */
const CONCURRENT_CONTEXTS = 4;

/** A version's row: the write that made it, when, and the fields the context had then. */
function versionRow(named: ListingTrailer, chain: readonly Inspected[]): VersionRow {
  const { version } = named.list;
  const written = chain.map((o) => o.trailer!).find((t) => t.version === version && (t.kind ?? 'write') === 'write');
  const { model_id, name, metadata, max_tokens, system } = named.context;
  return {
    version,
    kind: kindOf(version, written),
    created_at: new Date((written ?? named).written_at ?? named.context.created_at),
    segments: chain.map((o) => o.trailer!.segment_id),
    envelope: { model_id, name, metadata, max_tokens, system },
  };
}
