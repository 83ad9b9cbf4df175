import { createHash } from 'node:crypto';
import type {
  ContextRepository,
  ContextRow,
  ExportFilter,
  Segment,
  SegmentIndex,
  SegmentRepository,
} from '@ctxvault/db';
import type { BlobStore } from '@ctxvault/storage';
import type { Keyring } from '../envelope/keyring.ts';
import type { SegmentStore, StagingStore } from '../ports.ts';
import { SegmentReader } from '../segment-reader.ts';
import { envelopeOf } from '../views.ts';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type ContextRecord,
  recordLine,
  type SegmentRecord,
  type VersionRecord,
} from './archive-format.ts';
import { HELD_CONTEXT_BYTES } from './task-pool.ts';

export interface ArchiveExporterDeps {
  contexts: Pick<ContextRepository, 'exportPage' | 'exportCount'>;
  segments: SegmentStore & Pick<SegmentRepository, 'versionsOf'>;
  staging: StagingStore;
  blobs: BlobStore;
  /** opens sealed segments (envelope encryption): an archive carries items in the clear */
  keyring?: Keyring;
  /** item bytes of a context read ahead into memory while another is passed on (default 8 MiB) */
  heldContextBytes?: number;
}

export interface ExportOptions extends ExportFilter {
  /** `current`: each context's current version; `all`: every version still kept */
  versions: 'current' | 'all';
  /** called after each context with how many are done and how many the export holds */
  onProgress?: (done: number, total: number) => void;
}

const PAGE = 100;

/** What the end record counts. */
interface Totals {
  contexts: number;
  segments: number;
  items: number;
  item_bytes: number;
}

/** Contexts read ahead of the one being passed on: their object reads overlap. */
const READ_AHEAD_CONTEXTS = 4;

interface Prepared {
  row: ContextRow;
  lists: VersionRecord[];
  segs: Segment[];
  index: Map<string, SegmentIndex>;
}

/**
 * Streams the archive of a tenant's (or every tenant's) contexts: records and item lines, one
 * context after the other, each segment's items read from wherever they live and passed on byte
 * for byte. The next few contexts are read meanwhile (a context of up to `heldContextBytes` into
 * memory, a larger one streamed when its turn comes), so memory holds one page of rows and at most
 * READ_AHEAD_CONTEXTS × `heldContextBytes` of items, whatever the sizes.
 */
export class ArchiveExporter {
  private readonly reader: SegmentReader;

  constructor(private readonly deps: ArchiveExporterDeps) {
    this.reader = new SegmentReader(deps.segments, deps.staging, deps.blobs, undefined, deps.keyring);
  }

  async *export(options: ExportOptions): AsyncGenerator<Buffer> {
    const filter: ExportFilter = { tenant_id: options.tenant_id, agent_id: options.agent_id, since: options.since };
    const total = await this.deps.contexts.exportCount(filter);
    yield recordLine({
      type: 'header',
      format: ARCHIVE_FORMAT,
      archive_version: ARCHIVE_VERSION,
      created_at: new Date().toISOString(),
      versions: options.versions,
      filter: {
        tenant_id: options.tenant_id ?? null,
        agent_id: options.agent_id ?? null,
        since: options.since?.toISOString() ?? null,
      },
    });
    const totals: Totals = { contexts: 0, segments: 0, items: 0, item_bytes: 0 };
    let done = 0;
    let after: string | null = null;
    const all = options.versions === 'all';
    // the next contexts are read (references and items) while this one's are passed on
    const ahead: Promise<Buffer[] | Prepared | null>[] = [];
    for (;;) {
      const page = await this.deps.contexts.exportPage(filter, after, PAGE);
      for (const row of page) {
        const read = this.readAhead(row, all, totals);
        read.catch(() => {}); // surfaces when its turn comes
        ahead.push(read);
        if (ahead.length < READ_AHEAD_CONTEXTS) continue;
        yield* this.passOn(await ahead.shift()!, totals);
        options.onProgress?.(++done, Math.max(total, done));
      }
      if (page.length < PAGE) break;
      after = page.at(-1)!.id;
    }
    while (ahead.length) {
      yield* this.passOn(await ahead.shift()!, totals);
      options.onProgress?.(++done, Math.max(total, done));
    }
    options.onProgress?.(done, done);
    yield recordLine({ type: 'end', ...totals });
  }

  /**
   * A context's records and items, read into memory when its items come to at most
   * `heldContextBytes`; else what they are made of, streamed when its turn comes.
   */
  private async readAhead(row: ContextRow, all: boolean, totals: Totals): Promise<Buffer[] | Prepared | null> {
    const prepared = await this.prepare(row, all);
    const limit = this.deps.heldContextBytes ?? HELD_CONTEXT_BYTES;
    if (!prepared || prepared.segs.reduce((sum, s) => sum + s.size_bytes, 0) > limit) return prepared;
    return Array.fromAsync(this.context(prepared, totals));
  }

  /** A context read ahead: its bytes as they were read, or streamed now. */
  private async *passOn(read: Buffer[] | Prepared | null, totals: Totals): AsyncGenerator<Buffer> {
    if (Array.isArray(read)) yield* read;
    else if (read) yield* this.context(read, totals);
  }

  /** What a context's records are made of; null when it went away (deleted, or its versions collected) meanwhile. */
  private async prepare(row: ContextRow, all: boolean): Promise<Prepared | null> {
    const versions = await this.deps.segments.versionsOf(row.id, !all);
    const current = versions.find((v) => v.version === row.version);
    if (!current) return null;
    const segs = new Map<string, Segment>();
    const lists: VersionRecord[] = [];
    for (const v of versions) {
      const own = await this.deps.segments.segmentsOf(row.id, v.version);
      // a version collected between the two reads is left out; the current one cannot be
      if (own.length !== v.segments.length) continue;
      for (const s of own) segs.set(s.id, s);
      lists.push({
        type: 'version',
        context_id: row.id,
        version: v.version,
        kind: v.kind as VersionRecord['kind'],
        created_at: new Date(v.created_at).toISOString(),
        segments: v.segments,
        ...(v.source_id && v.source_version && { source: { context_id: v.source_id, version: v.source_version } }),
      });
    }
    if (!lists.some((v) => v.version === row.version)) return null;
    return { row, lists, segs: [...segs.values()], index: await this.deps.segments.loadIndex([...segs.keys()]) };
  }

  /** One context's records, and its segments' items. */
  private async *context({ row, lists, segs, index }: Prepared, totals: Totals): AsyncGenerator<Buffer> {
    yield recordLine(contextRecord(row));
    for (const v of lists) yield recordLine(v);
    for (const seg of segs) {
      const tokens = seg.tokens_final ? index.get(seg.id)?.item_tokens : null;
      const record: SegmentRecord = {
        type: 'segment',
        context_id: seg.context_id,
        id: seg.id,
        version: seg.version,
        kind: seg.kind,
        first_item: seg.first_item,
        item_count: seg.item_count,
        size_bytes: seg.size_bytes,
        sha256: seg.sha256,
        token_count: seg.token_count,
        tokens_final: Boolean(tokens),
        roles: seg.roles,
        item_tokens: tokens ? tokens.toString('base64') : null,
        item_roles: index.get(seg.id)?.item_roles?.toString('base64') ?? null,
        first_timestamp: seg.first_timestamp,
        last_timestamp: seg.last_timestamp,
      };
      // a segment of the layout before segments is a document: its item lines are measured first
      if (seg.format === 'document') Object.assign(record, await this.measure(seg));
      yield recordLine(record);
      for await (const chunk of this.reader.lines([seg])) yield chunk;
      totals.segments++;
      totals.items += seg.item_count;
      totals.item_bytes += record.size_bytes;
    }
    totals.contexts++;
  }

  private async measure(seg: Segment): Promise<{ size_bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of this.reader.lines([seg])) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { size_bytes: size, sha256: hash.digest('hex') };
  }
}

function contextRecord(row: ContextRow): ContextRecord {
  const envelope = envelopeOf(row);
  return {
    type: 'context',
    id: row.id,
    tenant_id: row.tenant_id,
    agent_id: row.agent_id,
    model_id: envelope.model_id,
    session_id: envelope.session_id,
    name: envelope.name,
    format: envelope.format,
    system: envelope.system,
    metadata: envelope.metadata,
    max_tokens: envelope.max_tokens,
    created_at: envelope.created_at,
    updated_at: new Date(row.updated_at).toISOString(),
    expires_at: envelope.expires_at,
    version: row.version,
    message_count: row.message_count,
    size_bytes: row.size_bytes,
    token_count: row.token_count,
  };
}
