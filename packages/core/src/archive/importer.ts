import { Readable } from 'node:stream';
import type { ContextRepository, ContextRow, NewSegment, SegmentRepository, VersionRow } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { newContextRow } from '../context-rows.ts';
import type { DocumentEnvelope } from '../document.ts';
import type { DataKey } from '../envelope/keyring.ts';
import { readU32s } from '../item-index.ts';
import type { CoreDeps } from '../ports.ts';
import { splitLines, trailerLine } from '../segment-format.ts';
import { inlineStorage, putSegmentObject } from '../segment-objects.ts';
import type { Tokenizer } from '../tokens.ts';
import { decodedArchive } from './archive-bytes.ts';
import type { ContextRecord, SegmentRecord, VersionRecord } from './archive-format.ts';
import { ArchiveFormatError } from './archive-format-error.ts';
import { RecordReader } from './record-reader.ts';
import { SegmentIndexer } from './segment-indexer.ts';
import { HELD_CONTEXT_BYTES, TaskPool } from './task-pool.ts';

export interface ArchiveImporterDeps extends Pick<CoreDeps, 'blobs' | 'settings' | 'logger' | 'keyring'> {
  contexts: Pick<ContextRepository, 'findAny'>;
  segments: Pick<SegmentRepository, 'insertWhole'>;
  tokenizer: Tokenizer;
  /** item bytes of a context read into memory to be written while the next ones are read (default 8 MiB) */
  heldContextBytes?: number;
}

export interface ImportOptions {
  /** every context goes to this tenant (the API: the caller's); else each keeps the tenant it was exported from */
  tenantId?: string;
  /** called after each context */
  onContext?: (report: ImportReport) => void;
}

export interface ImportReport {
  /** contexts written */
  imported: number;
  /** contexts already here with the same version and totals: left as they are */
  unchanged: number;
  /** contexts whose id is here with other content (or another tenant): left as they are, not written */
  conflicts: { id: string; reason: string }[];
  /** contexts that could not be written (damaged items): nothing of them was kept */
  failed: { id: string; reason: string }[];
  segments: number;
  items: number;
  item_bytes: number;
  /** the archive's end record was read and its totals matched */
  complete: boolean;
}

/** A segment's items did not match its record (size, count or sha256). */
class DamagedSegmentError extends Error {}

/** A segment record and its item lines: held in memory, or streaming from the archive. */
interface ArchivedSegment {
  record: SegmentRecord;
  items: Buffer[] | AsyncIterable<Buffer>;
}

/** A context's records as read from the archive, before anything of it is written. */
interface ArchivedContext {
  record: ContextRecord;
  versions: VersionRecord[];
  current: VersionRecord;
  segments: ArchivedSegment[] | AsyncIterable<ArchivedSegment>;
}

/** Contexts written at once (store writes, lookups and transactions overlap): memory ≤ this × the held bytes. */
const CONCURRENT_CONTEXTS = 4;

/**
 * Reads an archive and writes each context it holds, whole or not at all: segments first (objects
 * in this deployment's store and layout, or inline), then the row, versions and segment rows in
 * one transaction. Contexts of up to `heldContextBytes` are read into memory and written a few at
 * a time while the archive is read on; a larger one streams from the archive into the store, so
 * memory does not grow with a context's size (except inline segments, which are one field).
 * Running it twice changes nothing: a context already here is compared, not written again.
 */
export class ArchiveImporter {
  constructor(private readonly deps: ArchiveImporterDeps) {}

  /** `bytes`: the archive as written, plain or compressed as a whole (zstd, gzip). */
  async import(bytes: AsyncIterable<Buffer>, options: ImportOptions = {}): Promise<ImportReport> {
    const report: ImportReport = {
      imported: 0,
      unchanged: 0,
      conflicts: [],
      failed: [],
      segments: 0,
      items: 0,
      item_bytes: 0,
      complete: false,
    };
    const reader = new RecordReader(splitLines(decodedArchive(bytes)));
    const header = await reader.take();
    if (header?.type !== 'header')
      throw new ArchiveFormatError('the archive does not start with its header', reader.line);
    const seen = { contexts: 0, segments: 0, items: 0, item_bytes: 0 };
    const writing = new TaskPool(CONCURRENT_CONTEXTS);
    try {
      for (let record = await reader.take(); record; record = await reader.take()) {
        if (record.type === 'end') {
          report.complete =
            record.contexts === seen.contexts &&
            record.segments === seen.segments &&
            record.items === seen.items &&
            record.item_bytes === seen.item_bytes;
          if (!report.complete)
            throw new ArchiveFormatError('the end record does not match what the archive held', reader.line);
          break;
        }
        if (record.type !== 'context')
          throw new ArchiveFormatError(`a ${record.type} record outside a context`, reader.line);
        seen.contexts++;
        const context = await this.read(record, reader, seen);
        const write = async () => {
          await this.write(context, options.tenantId ?? record.tenant_id, report);
          options.onContext?.(report);
        };
        // a held context is written while the next ones are read; a streaming one before reading on
        if (Array.isArray(context.segments)) await writing.run(write);
        else await write();
      }
      await writing.drain();
    } catch (err) {
      await writing.settle();
      if (err instanceof ArchiveFormatError)
        throw new ArchiveFormatError(err.message.replace(/^archive line \d+: /, ''), reader.line, report);
      throw err;
    }
    if (!report.complete)
      throw new ArchiveFormatError('the archive ends before its end record (cut off?)', reader.line, report);
    return report;
  }

  /**
   * A context's version records, and its segments: their items held in memory (an array) while
   * they add up to `heldContextBytes`, the rest streaming from the archive as they are written.
   */
  private async read(
    record: ContextRecord,
    reader: RecordReader,
    seen: { segments: number; items: number; item_bytes: number },
  ): Promise<ArchivedContext> {
    const versions: VersionRecord[] = [];
    for (let next = await reader.peek(); next?.type === 'version'; next = await reader.peek()) {
      await reader.take();
      if (next.context_id !== record.id) throw new ArchiveFormatError('a version of another context', reader.line);
      versions.push(next);
    }
    const current = versions.find((v) => v.version === record.version);
    if (!current)
      throw new ArchiveFormatError(`context ${record.id} has no record of its version ${record.version}`, reader.line);
    const taken = async (segment: SegmentRecord) => {
      await reader.take();
      seen.segments++;
      seen.items += segment.item_count;
      seen.item_bytes += segment.size_bytes;
    };
    const held: ArchivedSegment[] = [];
    let heldBytes = 0;
    const limit = this.deps.heldContextBytes ?? HELD_CONTEXT_BYTES;
    for (let next = await reader.peek(); next?.type === 'segment'; next = await reader.peek()) {
      if (heldBytes + next.size_bytes > limit) {
        const streamed = async function* (): AsyncGenerator<ArchivedSegment> {
          yield* held;
          for (let rest = await reader.peek(); rest?.type === 'segment'; rest = await reader.peek()) {
            await taken(rest);
            yield { record: rest, items: reader.items(rest.item_count) };
          }
        };
        return { record, versions, current, segments: streamed() };
      }
      await taken(next);
      held.push({ record: next, items: await Array.fromAsync(reader.items(next.item_count)) });
      heldBytes += next.size_bytes;
    }
    return { record, versions, current, segments: held };
  }

  /** Writes one context read from the archive, whole or not at all; every item of it is read past either way. */
  private async write(
    { record, versions, current, segments }: ArchivedContext,
    tenantId: string,
    report: ImportReport,
  ): Promise<void> {
    const existing = await this.deps.contexts.findAny(record.id);
    const verdict = existing ? compare(existing, record, tenantId) : null;
    if (verdict === 'unchanged') report.unchanged++;
    else if (verdict) report.conflicts.push({ id: record.id, reason: verdict });
    const envelope = envelopeFrom(record, tenantId);
    // with envelope encryption on, imported bodies are sealed like written ones: with the context's data key
    const { keyring } = this.deps;
    const dataKey = !verdict && keyring?.sealing ? await keyring.forContext(tenantId, record.id) : null;
    const placed: NewSegment[] = [];
    let damage: string | null = null;
    for await (const { record: segment, items } of segments) {
      if (verdict || damage) {
        for await (const _ of items); // skipped: the items are read past, nothing is written
        continue;
      }
      try {
        const listed = versions.find((v) => v.segments.includes(segment.id)) ?? current;
        placed.push(await this.place(segment, items, envelope, listed, dataKey));
      } catch (err) {
        if (!(err instanceof DamagedSegmentError)) {
          await this.removeObjects(placed);
          throw err;
        }
        damage = err.message;
        for await (const _ of items);
      }
    }
    if (verdict) return;
    const missing = versions.flatMap((v) => v.segments).find((id) => !placed.some((s) => s.id === id));
    if (!damage && missing) damage = `segment ${missing} of its versions is not in the archive`;
    if (damage) {
      await this.removeObjects(placed);
      report.failed.push({ id: record.id, reason: damage });
      return;
    }
    const row = newContextRow(envelope, {
      status: 'stored',
      data_key_id: dataKey?.id ?? null,
      updated_at: new Date(record.updated_at),
    });
    const rows: VersionRow[] = versions.map((v) => ({
      version: v.version,
      kind: v.kind,
      created_at: new Date(v.created_at),
      segments: v.segments,
      source_id: v.source?.context_id ?? null,
      source_version: v.source?.version ?? null,
    }));
    // the bucket has no manifest of its restores and forks: the lifecycle pass writes them
    const outcome = await this.deps.segments.insertWhole(row, placed, rows, this.deps.blobs.kind, true);
    if (outcome === 'exists') {
      // written by someone else between the check and now
      await this.removeObjects(placed);
      report.conflicts.push({ id: record.id, reason: 'created meanwhile by another writer' });
      return;
    }
    report.imported++;
    report.segments += placed.length;
    for (const s of placed) {
      report.items += s.item_count;
      report.item_bytes += s.size_bytes;
    }
  }

  /** Writes one segment's items where this deployment keeps them: inline, or an object with its trailer. */
  private async place(
    record: SegmentRecord,
    items: Buffer[] | AsyncIterable<Buffer>,
    envelope: DocumentEnvelope,
    listed: VersionRecord,
    dataKey: DataKey | null,
  ): Promise<NewSegment> {
    const { settings, blobs, tokenizer } = this.deps;
    const tokens =
      record.tokens_final && record.item_tokens ? readU32s(Buffer.from(record.item_tokens, 'base64')) : null;
    const roles = record.item_roles ? Buffer.from(record.item_roles, 'base64') : null;
    // a kept index is taken as it is when it covers every item; else the items are parsed and counted
    const known =
      tokens && roles && tokens.length === record.item_count && roles.length === record.item_count
        ? {
            tokens,
            roles,
            tallies: record.roles,
            firstTimestamp: record.first_timestamp,
            lastTimestamp: record.last_timestamp,
          }
        : null;
    const format = envelope.format as Format;
    // the counter (its encoding loaded on first use) only for items that come without their counts
    const indexer = new SegmentIndexer(
      format,
      known ? { known } : { count: await tokenizer.forModel(envelope.model_id, format) },
    );
    const lines = indexer.pass(items);
    const base = {
      id: record.id,
      context_id: record.context_id,
      version: record.version,
      kind: record.kind,
      first_item: record.first_item,
    };
    const check = () => {
      const got = indexer.result();
      if (
        got.item_count !== record.item_count ||
        got.size_bytes !== record.size_bytes ||
        got.sha256 !== record.sha256
      ) {
        throw new DamagedSegmentError(
          `segment ${record.id}: its items do not match its record (${got.item_count} items, ${got.size_bytes} bytes, sha256 ${got.sha256})`,
        );
      }
      return got;
    };
    if (settings.provider === 'database' || record.size_bytes < settings.inlineThreshold) {
      const chunks: Buffer[] = [];
      for await (const line of lines) chunks.push(line);
      return { ...base, ...check(), ...(await inlineStorage(record.id, Buffer.concat(chunks), dataKey)) };
    }
    const trailer = trailerLine({
      context_id: record.context_id,
      segment_id: record.id,
      version: record.version,
      first_item: record.first_item,
      item_count: record.item_count,
      size_bytes: record.size_bytes,
      sha256: record.sha256,
      kind: record.kind,
      written_at: new Date().toISOString(),
      context: { ...envelope, version: listed.version },
      list: { version: listed.version, segments: listed.segments },
    });
    const body = Readable.from(
      (async function* () {
        yield* joined(lines, STORE_CHUNK_BYTES);
        yield trailer;
      })(),
    );
    const dataKeyId = dataKey?.id ?? null;
    const described = { ...base, item_count: record.item_count, sha256: record.sha256, data_key_id: dataKeyId };
    const placement = await putSegmentObject(this.deps, described, body, {
      plainLength: record.size_bytes + trailer.length,
    });
    let indexed: ReturnType<typeof check>;
    try {
      indexed = check();
    } catch (err) {
      await blobs.delete(placement.object_key);
      throw err;
    }
    return { ...base, ...indexed, state: 'stored', data_key_id: dataKeyId, body: null, ...placement };
  }

  private async removeObjects(placed: readonly NewSegment[]): Promise<void> {
    for (const s of placed) {
      if (!s.object_key) continue;
      await this.deps.blobs.delete(s.object_key).catch((err: unknown) => {
        // left behind: the lifecycle pass removes objects no segment refers to
        this.deps.logger.warn({ key: s.object_key, err }, 'could not remove an object of a context not imported');
      });
    }
  }
}

/** Item lines are handed to the store in chunks of about this size: a few large writes, not one per item. */
const STORE_CHUNK_BYTES = 64 * 1024;

/** `lines` joined into chunks of at least `size` bytes (the last one smaller). */
async function* joined(lines: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let bytes = 0;
  for await (const line of lines) {
    parts.push(line);
    bytes += line.length;
    if (bytes < size) continue;
    yield Buffer.concat(parts, bytes);
    parts = [];
    bytes = 0;
  }
  if (parts.length) yield Buffer.concat(parts, bytes);
}

/** null when `existing` is this record's context as it stands; else why it conflicts. */
function compare(existing: ContextRow, record: ContextRecord, tenantId: string): 'unchanged' | string {
  if (existing.tenant_id !== tenantId) return 'the id belongs to a context of another tenant';
  if (existing.status === 'deleting') return 'a context with this id is being deleted here';
  if (existing.version !== record.version)
    return `here at version ${existing.version}, in the archive ${record.version}`;
  if (existing.message_count !== record.message_count || existing.size_bytes !== record.size_bytes) {
    return `same version ${record.version}, different content (${existing.message_count} items / ${existing.size_bytes} bytes here, ${record.message_count} / ${record.size_bytes} in the archive)`;
  }
  return 'unchanged';
}

function envelopeFrom(record: ContextRecord, tenantId: string): DocumentEnvelope {
  return {
    id: record.id,
    version: record.version,
    tenant_id: tenantId,
    agent_id: record.agent_id,
    model_id: record.model_id,
    session_id: record.session_id,
    name: record.name,
    metadata: record.metadata,
    max_tokens: record.max_tokens,
    format: record.format,
    system: (record.system ?? null) as DocumentEnvelope['system'],
    created_at: record.created_at,
    expires_at: record.expires_at,
  };
}
