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
import { DELETED_MARK, manifestId } from '../version-manifests.ts';
import { type FoundKey, isSealed, recoverDataKey } from './bucket-keys.ts';
import { kindOf, type ListingTrailer, namesList, newestLists, segmentsOfList } from './bucket-versions.ts';
import { SegmentIndexer } from './segment-indexer.ts';
import { HELD_CONTEXT_BYTES, TaskPool } from './task-pool.ts';

export interface BucketRebuilderDeps extends Pick<CoreDeps, 'blobs' | 'settings' | 'logger' | 'keyring'> {
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
  /** versions recreated by this run (current and kept older ones) */
  versions: number;
  /** older versions named by a trailer whose segments are no longer all in the bucket (collected): not recreated */
  versions_not_in_bucket: number;
  /** versions recorded as collected (410, when they went unknown): below the lowest kept one, or whose segments are gone */
  versions_collected: number;
  /** purged contexts whose segments a fork shares (their mark is in the bucket): not brought back */
  deleted: number;
  /** what could not be rebuilt, and why: by context, or by object key when no context could be named */
  failed: { context_id?: string; key?: string; reason: string }[];
}

/** What one object says about itself once its items have been read (opened when sealed) and checked. */
interface Inspected {
  head: ObjectInfo;
  codec: Codec;
  /** the key that opens it, when it is sealed, and that key's data key id */
  sealKey: Buffer | null;
  dataKeyId: string | null;
  trailer: SegmentTrailer | null;
  /** why it cannot be used, when it cannot */
  problem: string | null;
  /** its item lines (without their `\n`) when they were kept from the check; else read again to be indexed */
  items: Buffer[] | null;
  /** the bytes of its kept items */
  size: number;
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
  /** every segment object of the bucket by segment id: a fork's shared segments are under its source's prefix */
  private segmentKeys = new Map<string, string>();
  /** the data keys of the contexts whose objects forks share, by context, recovered once a run */
  private ownerKeys = new Map<string, Promise<FoundKey>>();

  constructor(private readonly deps: BucketRebuilderDeps) {}

  async run(onProgress?: (done: number, total: number) => void): Promise<RebuildReport> {
    const report: RebuildReport = {
      contexts: 0,
      rebuilt: 0,
      present: 0,
      objects: 0,
      versions: 0,
      versions_not_in_bucket: 0,
      versions_collected: 0,
      deleted: 0,
      failed: [],
    };
    this.segmentKeys = new Map();
    this.ownerKeys = new Map();
    const prefix = `${this.deps.settings.pathPrefix.replace(/\/$/, '')}/`;
    // one listing to count (the objects of a context come together, in key order), one to rebuild
    let total = 0;
    let last: string | null = null;
    for await (const info of this.deps.blobs.list(prefix)) {
      const parsed = parseObjectKey(info.key);
      const id = parsed?.id ?? null;
      if (parsed?.segment) this.segmentKeys.set(parsed.segment, info.key);
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
      const [contextId, objects] = [groupId, group];
      await rebuilding.run(async () => {
        await this.context(contextId, objects, report).catch((err: unknown) =>
          // a dependency failing for one context (KMS, the database) is reported; a later run retries it
          report.failed.push({ context_id: contextId, reason: err instanceof Error ? err.message : String(err) }),
        );
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
    // a purged context whose segments a fork shares: its objects are read for the fork, not brought back
    const mark = manifestId(id, DELETED_MARK);
    if (objects.some((o) => parseObjectKey(o.key)?.segment === mark)) {
      report.deleted++;
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
    // segments of other contexts (a fork's, shared with its source) are read where they are
    const shared = await this.sharedSegments(id, lists.values(), found);
    const lookup = (segmentId: string) => found.get(segmentId) ?? shared.get(segmentId);
    const versions: Rebuilt[] = [];
    const damaged = new Set<number>();
    for (const trailer of [...lists.values()].sort((a, b) => a.list.version - b.list.version)) {
      const version = this.chainOf(trailer, trailers, lookup);
      if ('chain' in version) versions.push({ trailer, chain: version.chain });
      else if (trailer.list.version === current) {
        fail(version.problem);
        return;
      } else if (version.missing) report.versions_not_in_bucket++;
      else {
        damaged.add(trailer.list.version);
        fail(`version ${trailer.list.version} not rebuilt: ${version.problem}`);
      }
    }
    const newest = versions.at(-1)!.trailer;
    const segments = new Map<string, NewSegment>();
    const ownerKeys = new Map<string, FoundKey>();
    for (const { trailer, chain } of versions) {
      for (const object of chain) {
        const segmentId = object.trailer!.segment_id;
        if (segments.has(segmentId)) continue;
        const { model_id, format } = trailer.context;
        segments.set(segmentId, await this.segment(object, model_id, format));
        const owner = object.trailer!.context_id;
        if (owner !== id && object.sealKey) ownerKeys.set(owner, await this.ownerKeys.get(owner)!);
      }
    }
    const manifests = new Map(
      trailers.filter((t) => t.kind === 'restore' || t.kind === 'fork').map((t) => [t.version, t] as const),
    );
    const rows = versions.map(({ trailer, chain }) => versionRow(trailer, chain, manifests.get(trailer.list.version)));
    // the versions below and between those recreated that no object keeps were collected before the loss
    const recreated = new Set(rows.map((v) => v.version));
    for (let version = 1; version < current; version++) {
      if (recreated.has(version) || damaged.has(version)) continue;
      rows.push(collectedRow(version, trailers, manifests.get(version), newest.context.created_at));
    }
    rows.sort((a, b) => a.version - b.version);
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
    // the key of a source whose sealed segments a fork shares stays the source's (a purged source's too)
    for (const [owner, key] of ownerKeys)
      await this.deps.keyring!.storeFound({ ...key, tenantId: row.tenant_id, contextId: owner });
    const outcome = await this.deps.segments.insertWhole(row, [...segments.values()], rows, this.deps.blobs.kind);
    if (outcome === 'exists') report.present++;
    else {
      report.rebuilt++;
      report.versions += versions.length;
      report.versions_collected += rows.length - versions.length;
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
    // the items of the first objects are kept from their check for their index: each is read once
    let held = 0;
    for (const head of heads) {
      const keepBytes = (this.deps.heldContextBytes ?? HELD_CONTEXT_BYTES) - held;
      const inspected = await this.inspect(id, head, isSealed(head) ? dataKey : null, keepBytes);
      held += inspected.size;
      if (!inspected.trailer) fail(`${head.key}: ${inspected.problem}`);
      else found.set(inspected.trailer.segment_id, inspected);
    }
    return { found, dataKey };
  }

  /**
   * The segments the lists name that are not under this context's prefix (a fork's, shared with its
   * source: under the source's, a purged source's too), read and checked there, each opened with its
   * owner's data key (recovered from that owner's objects once a run). Those not in the bucket are
   * left out: the version that names them is then reported as for any missing segment.
   */
  private async sharedSegments(
    id: string,
    lists: Iterable<ListingTrailer>,
    found: ReadonlyMap<string, Inspected>,
  ): Promise<Map<string, Inspected>> {
    const shared = new Map<string, Inspected>();
    for (const named of lists) {
      for (const segmentId of named.list.segments) {
        const key = this.segmentKeys.get(segmentId);
        const owner = key ? parseObjectKey(key)?.id : undefined;
        if (!key || !owner || owner === id || found.has(segmentId) || shared.has(segmentId)) continue;
        const head = await this.deps.blobs.head(key);
        if (!head) continue;
        let ownerKey: FoundKey | null = null;
        if (isSealed(head)) {
          if (!this.ownerKeys.has(owner)) this.ownerKeys.set(owner, recoverDataKey(this.deps.keyring, owner, [head]));
          const recovering = this.ownerKeys.get(owner)!;
          ownerKey = await recovering.catch(() => null);
          if (!ownerKey) {
            const reason = await recovering.then(
              () => '',
              (err: unknown) => (err instanceof Error ? err.message : String(err)),
            );
            shared.set(segmentId, { ...UNREAD, head, problem: `under context ${owner}: ${reason}` });
            continue;
          }
        }
        shared.set(segmentId, await this.inspect(owner, head, ownerKey, 0));
      }
    }
    return shared;
  }

  /** The checked objects of the version a trailer names, in order; or why there are none. */
  private chainOf(
    named: ListingTrailer,
    trailers: readonly SegmentTrailer[],
    lookup: (segmentId: string) => Inspected | undefined,
  ): { chain: Inspected[] } | { missing: boolean; problem: string } {
    const { version } = named.list;
    const chain: Inspected[] = [];
    let nextItem = 0;
    for (const segmentId of segmentsOfList(named, trailers, (s) => lookup(s) !== undefined)) {
      const object = lookup(segmentId);
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

  /**
   * Reads an object whole (opened with its seal key when sealed): its items checked against its
   * trailer, and kept when they come to at most `keepBytes`.
   */
  private async inspect(id: string, head: ObjectInfo, dataKey: FoundKey | null, keepBytes: number): Promise<Inspected> {
    const parsed = parseObjectKey(head.key);
    const codec = CODECS.find((c) => codecSuffix(c) === parsed?.codec) ?? 'identity';
    const sealKeyOf = parsed?.segment && dataKey ? sealKey(dataKey.key, parsed.segment, 'object') : null;
    const dataKeyId = sealKeyOf ? dataKey!.id : null;
    const none = (problem: string): Inspected => ({
      head,
      codec,
      sealKey: sealKeyOf,
      dataKeyId,
      trailer: null,
      problem,
      items: null,
      size: 0,
    });
    if (!parsed?.segment)
      return none('a whole document of the layout before segments: it names no fields to rebuild from');
    const hash = createHash('sha256');
    let size = 0;
    let items = 0;
    let previous: Buffer | null = null;
    let kept: Buffer[] | null = [];
    try {
      for await (const line of splitLines(await this.open(head.key, codec, sealKeyOf))) {
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
    return { head, codec, sealKey: sealKeyOf, dataKeyId, trailer, problem, items: kept, size: kept ? size : 0 };
  }

  /** A checked object as a stored segment, its item index (roles, offsets, tokens) built from its items. */
  private async segment(object: Inspected, modelId: string | null, format: Format): Promise<NewSegment> {
    const trailer = object.trailer!;
    const { head } = object;
    const indexer = new SegmentIndexer(format, { count: await this.deps.tokenizer.forModel(modelId, format) });
    const items =
      object.items ??
      (async function* (source: AsyncIterable<Buffer>, count: number) {
        let n = 0;
        for await (const line of source) if (n++ < count) yield line;
      })(splitLines(await this.open(head.key, object.codec, object.sealKey)), trailer.item_count);
    for await (const _ of indexer.pass(items));
    return {
      id: trailer.segment_id,
      context_id: trailer.context_id,
      version: trailer.version,
      data_key_id: object.dataKeyId,
      kind: trailer.kind === 'compacted' ? 'compacted' : 'write',
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
/** An object that could not be opened: its head and the problem are set over this. */
const UNREAD: Omit<Inspected, 'head' | 'problem'> = {
  codec: 'identity',
  sealKey: null,
  dataKeyId: null,
  trailer: null,
  items: null,
  size: 0,
};
/** Contexts rebuilt at once: their object reads overlap, each holding one object's read buffers. */
const CONCURRENT_CONTEXTS = 4;

/**
 * A version's row: the write that made it (a restore's or fork's from its manifest), when, and the
 * fields the context had then.
 */
function versionRow(named: ListingTrailer, chain: readonly Inspected[], manifest?: SegmentTrailer): VersionRow {
  const { version } = named.list;
  const written = chain.map((o) => o.trailer!).find((t) => t.version === version && (t.kind ?? 'write') === 'write');
  const { model_id, name, metadata, max_tokens, system } = named.context;
  return {
    version,
    kind: manifest?.kind ?? kindOf(version, written),
    created_at: new Date((manifest ?? written ?? named).written_at ?? named.context.created_at),
    segments: chain.map((o) => o.trailer!.segment_id),
    envelope: { model_id, name, metadata, max_tokens, system },
    source_id: manifest?.source?.context_id ?? null,
    source_version: manifest?.source?.version ?? null,
  };
}

/**
 * The tombstone of a version collected before the loss (it answers 410): its kind from what an
 * object still says of it, when it went unknown, its totals unknown (0), made when its write's
 * object says, else at the context's creation.
 */
function collectedRow(
  version: number,
  trailers: readonly SegmentTrailer[],
  manifest: SegmentTrailer | undefined,
  createdAt: string,
): VersionRow {
  const written = trailers.find((t) => t.version === version && (t.kind ?? 'write') === 'write');
  return {
    version,
    kind: manifest?.kind ?? kindOf(version, written),
    created_at: new Date((manifest ?? written)?.written_at ?? createdAt),
    segments: [],
    source_id: manifest?.source?.context_id ?? null,
    source_version: manifest?.source?.version ?? null,
    collected: true,
  };
}
