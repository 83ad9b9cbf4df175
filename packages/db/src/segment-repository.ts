import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { escapeLiteral, type Pool, type PoolClient } from 'pg';
import { type ContextPatch, type ContextRow, fromColumns, ROW_COLUMNS } from './context-repository.ts';
import type { StorageProvider } from './entities/context.entity.ts';

/** Where a segment's items are: in its row, staged for a worker, or an object in the blob store. */
export type SegmentState = 'inline' | 'staged' | 'stored';
/** `lines`: one item a line, as sent. `document`: a whole document of the layout before segments. */
export type SegmentFormat = 'lines' | 'document';

export interface RoleTally {
  items: number;
  tokens: number;
}

/** Token counts of a segment: totals, per role, per item (u32 little-endian each). */
export interface SegmentCounts {
  token_count: number;
  roles: Record<string, RoleTally>;
  tokens_final: boolean;
  item_tokens: Buffer | null;
}

/** Where an object segment was put. */
export interface ObjectPlacement {
  object_key: string;
  etag: string;
  stored_bytes: number;
  content_encoding: string;
  encryption: string | null;
}

/** A segment as the reads and the workers see it (without its inline body and item index). */
export interface Segment {
  id: string;
  context_id: string;
  /** the version whose write made it (compacted: the version whose segments it merged) */
  version: number;
  kind: 'write' | 'compacted';
  format: SegmentFormat;
  state: SegmentState;
  object_key: string | null;
  etag: string | null;
  stored_bytes: number | null;
  content_encoding: string;
  encryption: string | null;
  /** the context's data key its bodies (inline, staged, object) are sealed with; null: in the clear */
  data_key_id: string | null;
  first_item: number;
  item_count: number;
  size_bytes: number;
  sha256: string;
  token_count: number;
  roles: Record<string, RoleTally>;
  tokens_final: boolean;
  first_timestamp: string | null;
  last_timestamp: string | null;
  /** whether any item calls a tool (a later tool result may answer it); null: not known (older segments) */
  has_calls: boolean | null;
}

/** A segment to insert: its row, its inline body if any and its item index. */
export interface NewSegment extends Omit<Segment, 'format' | 'token_count' | 'roles' | 'tokens_final'>, SegmentCounts {
  body: Buffer | null;
  /** per item: its byte offset in the items (float64 little-endian each) */
  item_offsets: Buffer;
  /** per item: its role code (one byte each; see roleCodes in core) */
  item_roles: Buffer;
}

/** The per-item index of a segment. */
export interface SegmentIndex {
  item_offsets: Buffer | null;
  item_tokens: Buffer | null;
  item_roles: Buffer | null;
}

/** The fields of a context a replace may change, kept with each version so an old version reads as it was. */
export type VersionEnvelope = Pick<ContextRow, 'model_id' | 'name' | 'metadata' | 'max_tokens' | 'system'>;

/** What made a version. */
export type VersionKind = 'create' | 'replace' | 'append' | 'legacy' | 'restore' | 'fork';

/** A version as the history lists it: kept (its segments readable) or collected (a tombstone with its totals). */
export interface VersionRecord {
  version: number;
  kind: VersionKind;
  created_at: Date;
  /** when compaction last merged some of its segments (its items unchanged) */
  compacted_at: Date | null;
  /** when the lifecycle pass let it go; null while kept */
  collected_at: Date | null;
  /** a tombstone a rebuild from the bucket made: `collected_at` is that rebuild's time, when it went is not known */
  collection_time_unknown: boolean;
  /** restore: this context; fork: the source context */
  source_id: string | null;
  source_version: number | null;
  envelope: VersionEnvelope | null;
  segments: number;
  item_count: number;
  size_bytes: number;
  token_count: number;
  tokens_final: boolean;
}

/** A kept restore or fork version whose manifest object is owed, with what its manifest says of it. */
export interface OwedManifest {
  context_id: string;
  version: number;
  kind: 'restore' | 'fork';
  created_at: Date;
  /** the fields the context had at this version; null: the context's own */
  envelope: VersionEnvelope | null;
  source_id: string;
  source_version: number;
}

/** Why a restore or fork found nothing to copy: the row moved on, or the version was collected meanwhile. */
export type CopyRefusal = 'moved' | 'collected';

/** A version as the `versions` table keeps it: its segments in order. */
export interface VersionRow {
  version: number;
  /** the write that made it: create, replace, append (legacy: a context of the layout before segments) */
  kind: string;
  created_at: Date;
  segments: string[];
  /** the fields the context had at this version (a rebuild knows them); null: the context's own */
  envelope?: VersionEnvelope | null;
  /** restore: this context; fork: the source context (and its version) */
  source_id?: string | null;
  source_version?: number | null;
  /** a tombstone (no segments) of a version collected before a rebuild, at an unknown time */
  collected?: boolean;
}

/**
 * Which segments of a version a read will open, so that their inline bodies and item index come
 * with the segments in one round trip: those holding any of the last `items` items, or the last
 * `tokens` tokens (the segment that crosses them included); every segment when both are null.
 */
export interface TailHint {
  items: number | null;
  tokens: number | null;
}

/** A live context, the segments of its current version, and what of them came along (see TailHint). */
export interface OpenedVersion {
  row: ContextRow;
  segs: Segment[];
  bodies: Map<string, Buffer>;
  index: Map<string, SegmentIndex>;
}

/** What an upload job starts from (see `openUpload`). */
export interface UploadStart {
  /** the context, whatever its state; null once purged */
  row: ContextRow | null;
  /** the segment the write of the job's version made; null if that write was never committed */
  write: Segment | null;
  /** the segments of the context's current version, in order */
  current: Segment[];
}

/** Inline bodies and item indexes above these sizes are left to be loaded when a read needs them. */
const OPEN_BODY_MAX_BYTES = 1024 * 1024;
const OPEN_INDEX_MAX_ITEMS = 128 * 1024;

/** An item's entry in the search index: the role it plays and its searchable text, lower-cased. */
export interface SearchText {
  role: string;
  folded: string;
}

/** An item the search index matched: its segment (and its position in the segments asked), and its bytes of the item index. */
/** How many items a search reads in order before it asks the trigram index (see `searchItems`). */
const SEARCH_PROBE_ITEMS = 256;

interface FoundItem {
  segment_id: string;
  pos: number;
  item: number;
  /** its offset and, unless it is the last item, the next one's (float64 little-endian); null without an item index */
  offsets: Buffer | null;
}

/** A context row as a commit left it, and the bytes of its segments after the first (what compaction would merge). */
export interface CommittedVersion {
  row: ContextRow;
  tailBytes: number;
}

export interface VersionCommit {
  contextId: string;
  expectedVersion: number;
  /** the segments of `expectedVersion` as the writer read them: a compaction since then makes the commit fail */
  expectedSegments: number;
  /** the envelope columns, version and job id of the new version */
  patch: ContextPatch;
  segment: NewSegment;
  /** true: the segment starts a new base (replace); false: it follows the previous version's segments (append) */
  base: boolean;
  /** what the context's objects are stored in ("local" or "s3") */
  provider: StorageProvider;
}

const SEGMENT_COLUMNS = `s.id, s.context_id, s.version, s.kind, s.format, s.state, s.object_key, s.etag, s.stored_bytes::float8 as stored_bytes,
  s.content_encoding, s.encryption, s.first_item::float8 as first_item, s.item_count, s.size_bytes::float8 as size_bytes, s.sha256,
  s.token_count::float8 as token_count, s.roles, s.tokens_final, s.first_timestamp, s.last_timestamp, s.data_key_id, s.has_calls`;

/**
 * `openUpload`'s statement: one row per segment of the current version (`part` 'current', in
 * order) and one for the write's segment (`part` 'write'), each with the context's row; a single
 * row of nulls besides the context when there is neither.
 */
const OPEN_UPLOAD = `with c as (select ${ROW_COLUMNS} from contexts where id = $1),
   listed as (
     select 'current' as part, u.pos, s.* from c join versions v on v.context_id = c.id and v.version = c.version
       cross join unnest(v.segments) with ordinality as u(sid, pos) join segments s on s.id = u.sid
     union all
     select 'write', 0, s.* from segments s where s.context_id = $1 and s.version = $2 and s.kind = 'write')
 select (select row_to_json(c) from c) as context, s.part, ${SEGMENT_COLUMNS}
   from (select 1) as one left join listed s on true order by s.part, s.pos`;

/** Each inserted column's type, for statements whose parameters get no type from a VALUES list. */
const INSERT_TYPES: Record<(typeof INSERT_COLUMNS)[number], string> = {
  id: 'uuid',
  context_id: 'uuid',
  version: 'int',
  kind: 'text',
  state: 'text',
  body: 'bytea',
  object_key: 'text',
  etag: 'text',
  stored_bytes: 'bigint',
  content_encoding: 'text',
  encryption: 'text',
  first_item: 'bigint',
  item_count: 'int',
  size_bytes: 'bigint',
  sha256: 'text',
  token_count: 'bigint',
  roles: 'jsonb',
  tokens_final: 'boolean',
  item_offsets: 'bytea',
  item_tokens: 'bytea',
  item_roles: 'bytea',
  first_timestamp: 'text',
  last_timestamp: 'text',
  data_key_id: 'uuid',
  has_calls: 'boolean',
};

const VERSION_COLUMNS = `v.version, v.kind, v.created_at, v.compacted_at, v.collected_at, v.collection_time_unknown, v.source_id, v.source_version, v.envelope,
  cardinality(v.segments) as segments, coalesce(t.items, v.item_count, 0)::float8 as item_count,
  coalesce(t.bytes, v.size_bytes, 0)::float8 as size_bytes, coalesce(t.tokens, v.token_count, 0)::float8 as token_count,
  coalesce(t.final, true) as tokens_final`;
/** The totals of a version's segments (null for a tombstone: its totals are in its own columns). */
const VERSION_TOTALS = `left join lateral (
  select sum(s.item_count) as items, sum(s.size_bytes) as bytes, sum(s.token_count) as tokens, bool_and(s.tokens_final) as final
    from unnest(v.segments) as u(sid) join segments s on s.id = u.sid) t on true`;
/** No version of any context refers to segment `s` (forks share segments; the GIN index answers this). */
const REFERENCED = 'exists (select 1 from versions r where r.segments @> array[s.id])';
const UNREFERENCED = `not ${REFERENCED}`;
/** A restore's or fork's version on these segments owes a manifest: some of them are in the bucket (not all inline). */
const OWES_MANIFEST = (segments: string) =>
  `exists (select 1 from segments s where s.id = any(${segments}) and s.state <> 'inline')`;
/** The versions that owe their manifest (`v`, of context `c`): kept, of a live context. */
const MANIFEST_OWED = `v.manifest_pending and v.collected_at is null and c.status in ('pending', 'stored', 'failed')`;

/**
 * Whether the lifecycle rules keep a version (`v`, of context `c`): the current one, one of the
 * newest `keepVersions` superseded ones, or one superseded (its next version made) less than
 * `keepForMs` ago; the arguments name the query's parameters that hold them.
 */
function keptByRules(keepVersions: string, keepForMs: string): string {
  return `(v.version >= c.version - ${keepVersions}
    or coalesce((select n.created_at from versions n where n.context_id = v.context_id and n.version = v.version + 1), v.created_at)
       >= now() - (${keepForMs}::float8 * interval '1 millisecond'))`;
}

/**
 * Collects the uncollected versions (`v`, of context `c`) that `which` picks, locking them as
 * `lock` says: each becomes a tombstone (`collected_at`, its totals, no segments).
 */
function collectVersions(which: string, lock: '' | 'skip locked'): string {
  return `with doomed as (
    select v.context_id, v.version,
           (select coalesce(sum(s.item_count), 0) from unnest(v.segments) as u(sid) join segments s on s.id = u.sid) as items,
           (select coalesce(sum(s.size_bytes), 0) from unnest(v.segments) as u(sid) join segments s on s.id = u.sid) as bytes,
           (select coalesce(sum(s.token_count), 0) from unnest(v.segments) as u(sid) join segments s on s.id = u.sid) as tokens
      from versions v join contexts c on c.id = v.context_id
     where v.collected_at is null and ${which}
     for update of v ${lock})
  update versions v set collected_at = now(), segments = '{}', item_count = d.items, size_bytes = d.bytes, token_count = d.tokens
    from doomed d where v.context_id = d.context_id and v.version = d.version`;
}

/**
 * A live context of the tenant and the segments of its current version (`openLive`). Its plan is
 * made once per connection (a generic plan), whatever the tables' statistics were then, so its
 * shape leaves the planner one way: the row by its primary key alone (the tenant is checked on it
 * after), each segment by its id (`offset 0` keeps the lookup a nested loop, which a plan made on
 * small tables would otherwise turn into a scan of every segment). The row comes once, with the
 * first segment, not once a segment: each copy is serialized, sent and parsed again.
 */
export const OPEN_LIVE = `with by_id as materialized (
    select ${ROW_COLUMNS} from contexts where id = $1),
  c as (
    select * from by_id where tenant_id = $2 and deleted_at is null and status <> 'deleting'),
  segs as (
    select s.*, u.pos,
      coalesce(sum(s.item_count) over after, 0) as items_after,
      coalesce(sum(s.token_count) over after, 0) as tokens_after
      from c join versions v on v.context_id = c.id and v.version = c.version
      cross join unnest(v.segments) with ordinality as u(sid, pos)
      cross join lateral (select * from segments where id = u.sid offset 0) s
    window after as (order by u.pos desc rows between unbounded preceding and 1 preceding)),
  t as (
    select s.*, ($3::int is null and $4::int is null) or s.items_after < $3::int or s.tokens_after <= $4::int as wanted
      from segs s)
  select case when coalesce(s.pos, 1) = 1 then row_to_json(c) end as context, ${SEGMENT_COLUMNS},
    case when s.wanted and s.state = 'inline' and s.size_bytes <= $5 and s.id <> all($7::uuid[])
         then s.body end as body,
    s.wanted and s.item_count <= $6 as indexed,
    case when s.wanted and s.item_count <= $6 then s.item_offsets end as item_offsets,
    case when s.wanted and s.item_count <= $6 then s.item_tokens end as item_tokens,
    case when s.wanted and s.item_count <= $6 then s.item_roles end as item_roles
    from c left join t s on true order by s.pos`;

const INSERT_COLUMNS = [
  'id',
  'context_id',
  'version',
  'kind',
  'state',
  'body',
  'object_key',
  'etag',
  'stored_bytes',
  'content_encoding',
  'encryption',
  'first_item',
  'item_count',
  'size_bytes',
  'sha256',
  'token_count',
  'roles',
  'tokens_final',
  'item_offsets',
  'item_tokens',
  'item_roles',
  'first_timestamp',
  'last_timestamp',
  'data_key_id',
  'has_calls',
] as const;

/**
 * The `segments` and `versions` tables, and the commits that change a context's version together
 * with its row. Every commit runs in one short transaction holding the context row's lock, and ends
 * by recomputing the row's totals from the segments of its current version, so a worker finishing
 * a segment and a client appending one never overwrite each other's counts.
 */
export class SegmentRepository {
  /**
   * `prepared`: whether reads may use named (prepared) statements; not on the embedded PGlite,
   * whose wire connections all share one session, so a name prepared by one is taken for another's.
   */
  constructor(
    private readonly orm: MikroORM,
    private readonly options: { prepared?: boolean } = {},
  ) {}

  /**
   * Inserts a new context with its first version, made of `segment`, in one statement (one round
   * trip, no transaction around several): the row goes in with its totals already those of its
   * only segment, as `refreshTotals` would compute them, so it is written once. The row as committed.
   */
  async createContext(row: ContextRow, segment: NewSegment, provider: StorageProvider): Promise<CommittedVersion> {
    const full = { ...row, ...totalsOfOnly(row, segment, provider) };
    const columns = Object.keys(full) as (keyof ContextRow & string)[];
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    const rowValues = columns.map((c) => (c === 'updated_at' ? 'now()' : param(columnValue(c, full[c]))));
    const segValues = INSERT_COLUMNS.map((c) => `${param(columnValue(c, segment[c]))}::${INSERT_TYPES[c]}`);
    const text = `with ctx as (
         insert into contexts (${columns.map((c) => `"${c}"`).join(', ')}) values (${rowValues.join(', ')}) returning *),
       seg as (
         insert into segments (${INSERT_COLUMNS.join(', ')}) select ${segValues.join(', ')} from ctx),
       ver as (
         insert into versions (context_id, version, kind, segments, envelope)
           select ctx.id, ctx.version, 'create', array[${param(segment.id)}::uuid], ${param(envelopeJson(row))}::jsonb from ctx)
       select *, 0::float8 as tail_bytes from ctx`;
    const { rows } = await (await this.pool()).query({
      name: this.statementName('ctxvault_create', text),
      text,
      values,
    });
    return committedRow(rows[0] ?? {});
  }

  /**
   * Commits the next version; null (and nothing written) when the context is no longer at
   * `expectedVersion` with `expectedSegments` segments.
   */
  async commitVersion(commit: VersionCommit): Promise<CommittedVersion | null> {
    if (!commit.base) return this.commitAppend(commit);
    return this.transaction(async (client) => {
      const patch = { ...commit.patch, updated_at: new Date() };
      const columns = Object.keys(patch) as (keyof ContextRow & string)[];
      const moved = await client.query(
        `update contexts set ${columns.map((c, i) => `"${c}" = $${i + 3}`).join(', ')}
          where id = $1 and version = $2 and status in ('pending', 'stored', 'failed')`,
        [commit.contextId, commit.expectedVersion, ...columns.map((c) => columnValue(c, patch[c]))],
      );
      if (moved.rowCount === 0) return null;
      await insertSegment(client, commit.segment);
      const next = commit.patch.version;
      const envelope = await envelopeAfter(client, commit.contextId);
      const inserted = commit.base
        ? await client.query(
            `insert into versions (context_id, version, kind, segments, envelope) values ($1, $2, 'replace', array[$3::uuid], $4)`,
            [commit.contextId, next, commit.segment.id, envelope],
          )
        : await client.query(
            `insert into versions (context_id, version, kind, segments, envelope)
              select $1, $2, 'append', segments || $3::uuid, $5 from versions where context_id = $1 and version = $4`,
            [commit.contextId, next, commit.segment.id, commit.expectedVersion, envelope],
          );
      if (inserted.rowCount === 0)
        throw new Error(`version ${commit.expectedVersion} of ${commit.contextId} has no segments`);
      return refreshTotals(client, commit.contextId, commit.provider);
    });
  }

  /**
   * An append in one statement (no transaction of several round trips): the row moves to the next
   * version with its totals grown by the segment's, the segment is inserted, and the next version
   * lists the previous one's segments and it. Sums instead of a recount are safe because every
   * writer of a row's totals holds its lock: the update waits for one and then sees its result.
   * The row must still have the segments the writer read, so a compaction swapped in meanwhile
   * (which keeps the version) fails the append rather than copying the list it replaced.
   */
  private async commitAppend(commit: VersionCommit): Promise<CommittedVersion | null> {
    const { segment } = commit;
    const patch = { ...commit.patch };
    const columns = Object.keys(patch) as (keyof ContextRow & string)[];
    const values: unknown[] = [commit.contextId, commit.expectedVersion, commit.expectedSegments];
    const param = (value: unknown) => `$${values.push(value)}`;
    const sets = columns.map((c) => `"${c}" = ${param(columnValue(c, patch[c]))}`);
    const staged = param(segment.state === 'staged');
    const size = param(segment.size_bytes);
    const inserted = INSERT_COLUMNS.map((c) => `${param(columnValue(c, segment[c]))}::${INSERT_TYPES[c]}`);
    const text = `with prev as (
         select v.segments, (select s.size_bytes from segments s where s.id = v.segments[1]) as base_bytes
           from versions v where v.context_id = $1 and v.version = $2 and cardinality(v.segments) = $3),
       moved as (
         update contexts c set ${sets.join(', ')}, updated_at = now(),
           message_count = c.message_count + ${param(segment.item_count)},
           size_bytes = c.size_bytes + ${size}::bigint,
           token_count = c.token_count + ${param(segment.token_count)}::int,
           tokens_final = c.tokens_final and ${param(segment.tokens_final)}::boolean,
           segment_count = c.segment_count + 1,
           status = case when ${staged}::boolean then (case when c.status = 'failed' then 'failed' else 'pending' end) else c.status end,
           stored_bytes = case when ${staged}::boolean then null else c.stored_bytes + ${size}::bigint end,
           sha256 = null
          from prev
          where c.id = $1 and c.version = $2 and c.segment_count = $3 and c.status in ('pending', 'stored', 'failed')
         returning c.*, (c.size_bytes - prev.base_bytes)::float8 as tail_bytes),
       seg as (
         insert into segments (${INSERT_COLUMNS.join(', ')}) select ${inserted.join(', ')} from moved),
       ver as (
         insert into versions (context_id, version, kind, segments)
           select $1, moved.version, 'append', prev.segments || ${param(segment.id)}::uuid from moved, prev)
       select * from moved`;
    const { rows } = await (await this.pool()).query({
      name: this.statementName('ctxvault_append', text),
      text,
      values,
    });
    if (rows.length === 0) return null;
    return committedRow(rows[0]);
  }

  /** The segments of a version, in order. */
  async segmentsOf(contextId: string, version: number): Promise<Segment[]> {
    const { rows } = await (await this.pool()).query<Segment>(
      `select ${SEGMENT_COLUMNS} from versions v cross join unnest(v.segments) with ordinality as u(sid, pos)
        join segments s on s.id = u.sid where v.context_id = $1 and v.version = $2 order by u.pos`,
      [contextId, version],
    );
    return rows;
  }

  /**
   * The context (any state), the segment the write of `version` made, and the segments of the
   * context's current version: one round trip (and one snapshot) for what an upload job looks up first.
   */
  async openUpload(contextId: string, version: number): Promise<UploadStart> {
    const { rows } = await (await this.pool()).query({
      name: this.options.prepared === false ? undefined : 'ctxvault_open_upload',
      text: OPEN_UPLOAD,
      values: [contextId, version],
    });
    const start: UploadStart = {
      row: rows[0]?.context ? fromColumns(rows[0].context) : null,
      write: null,
      current: [],
    };
    for (const { context, part, ...seg } of rows) {
      if (part === 'write') start.write = seg as Segment;
      else if (part === 'current') start.current.push(seg as Segment);
    }
    return start;
  }

  /**
   * A live context of the tenant (not deleted or being deleted) with the segments of its current
   * version, in order, and the inline bodies and item index of the segments `tail` names: one
   * round trip for what a read needs before it streams. Null when there is no such context; `segs`
   * is empty when the lifecycle pass forgot the version just superseded (read again). The bodies of
   * the segments `held` names (the caller's cache has them) are not sent.
   */
  async openLive(
    tenantId: string,
    id: string,
    tail: TailHint,
    held: readonly string[] = [],
  ): Promise<OpenedVersion | null> {
    const { rows } = await (await this.pool()).query({
      // a named (prepared) statement: each connection parses and plans it once, not on every read
      // (planning this statement costs Postgres more than running it)
      name: this.options.prepared === false ? undefined : 'ctxvault_open_live',
      text: OPEN_LIVE,
      values: [id, tenantId, tail.items, tail.tokens, OPEN_BODY_MAX_BYTES, OPEN_INDEX_MAX_ITEMS, held],
    });
    if (rows.length === 0) return null;
    const opened: OpenedVersion = {
      row: fromColumns(rows[0].context),
      segs: [],
      bodies: new Map(),
      index: new Map(),
    };
    for (const { context, body, indexed, item_offsets, item_tokens, item_roles, ...seg } of rows) {
      if (seg.id === null) continue;
      opened.segs.push(seg as Segment);
      if (body !== null) opened.bodies.set(seg.id, body);
      if (indexed) opened.index.set(seg.id, { item_offsets, item_tokens, item_roles });
    }
    return opened;
  }

  /** A context's versions, newest first, from `before` down (keyset paging): kept ones and tombstones. */
  async listVersions(contextId: string, before: number | undefined, limit: number): Promise<VersionRecord[]> {
    const { rows } = await (await this.pool()).query<VersionRecord>(
      `select ${VERSION_COLUMNS} from versions v ${VERSION_TOTALS}
        where v.context_id = $1 and ($2::int is null or v.version < $2) order by v.version desc limit $3`,
      [contextId, before ?? null, limit],
    );
    return rows;
  }

  /** The restore a tenant made with this Idempotency-Key: which context, and the fingerprint of its request. */
  async findRestoreByIdempotencyKey(
    tenantId: string,
    key: string,
  ): Promise<{ context_id: string; fingerprint: string | null } | null> {
    const { rows } = await (await this.pool()).query<{ context_id: string; fingerprint: string | null }>(
      `select v.context_id, v.idempotency_fingerprint as fingerprint from versions v
        join contexts c on c.id = v.context_id
        where v.idempotency_key = $2 and c.tenant_id = $1 limit 1`,
      [tenantId, key],
    );
    return rows[0] ?? null;
  }

  /** One version of a context (kept or a tombstone), or null when it has no row. */
  async findVersion(contextId: string, version: number): Promise<VersionRecord | null> {
    const { rows } = await (await this.pool()).query<VersionRecord>(
      `select ${VERSION_COLUMNS} from versions v ${VERSION_TOTALS} where v.context_id = $1 and v.version = $2`,
      [contextId, version],
    );
    return rows[0] ?? null;
  }

  /**
   * Makes kept version `source` of a context current again as the next version (kind `restore`):
   * the same segments, the fields it had (and `jobId`, the upload job of a segment still staged). Refused with nothing written when the context is no
   * longer at `expectedVersion` (`moved`) or the version was collected meanwhile (`collected`).
   * `idempotency`: the request's Idempotency-Key and fingerprint, kept on the new version.
   */
  async restoreVersion(
    contextId: string,
    expectedVersion: number,
    source: number,
    jobId: string | null,
    provider: StorageProvider,
    idempotency: { key: string; fingerprint: string } | null = null,
  ): Promise<CommittedVersion | CopyRefusal> {
    return this.transactionOr(async (client) => {
      const next = expectedVersion + 1;
      const restored = await keptVersion(client, contextId, source);
      if (!restored) return 'collected';
      const patch: ContextPatch = {
        ...(restored.envelope ?? {}),
        version: next,
        updated_at: new Date(),
        ...(jobId && { job_id: jobId }),
      };
      const columns = Object.keys(patch) as (keyof ContextRow & string)[];
      const moved = await client.query(
        `update contexts set ${columns.map((c, i) => `"${c}" = $${i + 3}`).join(', ')}
          where id = $1 and version = $2 and status in ('pending', 'stored', 'failed')`,
        [contextId, expectedVersion, ...columns.map((c) => columnValue(c, patch[c]))],
      );
      if (moved.rowCount === 0) return 'moved';
      await client.query(
        `insert into versions (context_id, version, kind, segments, envelope, source_id, source_version,
            idempotency_key, idempotency_fingerprint, manifest_pending)
          values ($1, $2, 'restore', $3, $4, $1, $5, $6, $7, ${OWES_MANIFEST('$3::uuid[]')})`,
        [
          contextId,
          next,
          restored.segments,
          restored.envelope && JSON.stringify(restored.envelope),
          source,
          idempotency?.key ?? null,
          idempotency?.fingerprint ?? null,
        ],
      );
      await unretire(client, restored.segments);
      return refreshTotals(client, contextId, provider);
    });
  }

  /**
   * Creates context `row` (version 1, kind `fork`) on the segments of kept version `source` of
   * context `sourceId`: no segment or object is copied, the fork's version refers to the same
   * rows. Refused with nothing written when the source is gone (`moved`) or the version was
   * collected (`collected`). The source row is locked for share, so it cannot be marked for
   * deletion while the fork is committed.
   */
  async forkContext(
    row: ContextRow,
    sourceId: string,
    source: number,
    provider: StorageProvider,
  ): Promise<CommittedVersion | CopyRefusal> {
    return this.transactionOr(async (client) => {
      const live = await client.query(
        `select 1 from contexts where id = $1 and tenant_id = $2 and status in ('pending', 'stored', 'failed') for share`,
        [sourceId, row.tenant_id],
      );
      if (live.rowCount === 0) return 'moved';
      const columns = Object.keys(row) as (keyof ContextRow & string)[];
      await client.query(
        `insert into contexts (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => columnValue(c, row[c])),
      );
      const shared = await keptVersion(client, sourceId, source);
      if (!shared) return 'collected';
      await client.query(
        `insert into versions (context_id, version, kind, segments, envelope, source_id, source_version, manifest_pending)
          values ($1, $2, 'fork', $3, $4, $5, $6, ${OWES_MANIFEST('$3::uuid[]')})`,
        [row.id, row.version, shared.segments, envelopeJson(row), sourceId, source],
      );
      await unretire(client, shared.segments);
      return refreshTotals(client, row.id, provider);
    });
  }

  /**
   * Whether a version the lifecycle rules keep (a context's current one, one of its newest
   * `keepVersions` superseded ones, or one superseded less than `keepForMs` ago; of any context, so
   * forks count) refers to this segment. When none does, the versions that still refer to it are
   * collected now, as the next lifecycle pass would collect them: a read or restore of one then
   * answers 410 rather than finding the segment without its body. The versions are locked first,
   * so a restore or fork of one either commits before the check or finds it collected.
   */
  async keptOrCollected(segmentId: string, keepVersions: number, keepForMs: number): Promise<'kept' | 'collected'> {
    return this.transaction(async (client) => {
      await client.query(
        'select 1 from versions where segments @> array[$1::uuid] and collected_at is null for update',
        [segmentId],
      );
      const kept = await client.query(
        `select 1 from versions v join contexts c on c.id = v.context_id
          where v.segments @> array[$1::uuid] and v.collected_at is null and ${keptByRules('$2', '$3')} limit 1`,
        [segmentId, keepVersions, keepForMs],
      );
      if ((kept.rowCount ?? 0) > 0) return 'kept';
      await client.query(collectVersions('v.segments @> array[$1::uuid]', ''), [segmentId]);
      return 'collected';
    });
  }

  /** The segment the write of `version` made, if that write was committed. */
  async findWrite(contextId: string, version: number): Promise<Segment | null> {
    const { rows } = await (await this.pool()).query<Segment>(
      `select ${SEGMENT_COLUMNS} from segments s where s.context_id = $1 and s.version = $2 and s.kind = 'write'`,
      [contextId, version],
    );
    return rows[0] ?? null;
  }

  async findSegment(id: string): Promise<Segment | null> {
    const { rows } = await (await this.pool()).query<Segment>(
      `select ${SEGMENT_COLUMNS} from segments s where s.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** The inline bodies of these segments. */
  async loadBodies(ids: readonly string[]): Promise<Map<string, Buffer>> {
    const { rows } = await (await this.pool()).query<{ id: string; body: Buffer | null }>(
      'select id, body from segments where id = any($1::uuid[])',
      [ids],
    );
    return new Map(rows.filter((r) => r.body !== null).map((r) => [r.id, r.body as Buffer]));
  }

  /** The item index of these segments. */
  async loadIndex(ids: readonly string[]): Promise<Map<string, SegmentIndex>> {
    const { rows } = await (await this.pool()).query<SegmentIndex & { id: string }>(
      'select id, item_offsets, item_tokens, item_roles from segments where id = any($1::uuid[])',
      [ids],
    );
    return new Map(rows.map(({ id, ...index }) => [id, index]));
  }

  /** Which of these segments the search index holds (every item's text, kept by `keepSearchTexts`). */
  async searchIndexed(ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await (await this.pool()).query<{ id: string }>(
      'select id from segments where id = any($1::uuid[]) and search_indexed',
      [ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Adds items' searchable texts (lower-cased) of a segment to the search index, from item `first`
   * on. A retried job writes them again over what an attempt that failed midway left.
   */
  async keepSearchTexts(segmentId: string, first: number, texts: readonly SearchText[]): Promise<void> {
    if (texts.length === 0) return;
    await (await this.pool()).query(
      `insert into segment_search (segment_id, item, role, folded)
        select $1, $2::int + u.n - 1, u.role, u.folded from unnest($3::text[], $4::text[]) with ordinality as u(role, folded, n)
       on conflict (segment_id, item) do update set role = excluded.role, folded = excluded.folded`,
      [segmentId, first, texts.map((t) => t.role), texts.map((t) => t.folded)],
    );
  }

  /** Copies the index entries of segment `from` to segment `to`, their items shifted by `shift` (a compaction's merge). */
  async copySearchTexts(from: string, to: string, shift: number): Promise<void> {
    await (await this.pool()).query(
      `insert into segment_search (segment_id, item, role, folded)
        select $2, item + $3::int, role, folded from segment_search where segment_id = $1
       on conflict do nothing`,
      [from, to, shift],
    );
  }

  /**
   * Stored segments in the clear, of live contexts, that the search index does not hold, untouched
   * for `olderThanMs` (stored before the workers indexed, or their indexing failed), with their
   * context's format: those never tried by a pass first, then those whose last try failed longest
   * ago, oldest first within each; at most `limit` of them and no more than `maxBytes` of items
   * (but always the first, however large).
   */
  async findUnindexed(
    olderThanMs: number,
    limit: number,
    maxBytes: number,
  ): Promise<(Segment & { context_format: string })[]> {
    const { rows } = await (await this.pool()).query<Segment & { context_format: string; bytes_before: number }>(
      `select * from (
         select ${SEGMENT_COLUMNS}, c.format as context_format,
                (sum(s.size_bytes) over (order by s.search_failed_at nulls first, s.created_at, s.id)
                  - s.size_bytes)::float8 as bytes_before
           from segments s join contexts c on c.id = s.context_id
          where not s.search_indexed and s.state = 'stored' and s.data_key_id is null and s.format = 'lines'
            and s.retired_at is null and c.status in ('pending', 'stored')
            and s.created_at < now() - ($1::float8 * interval '1 millisecond')
          order by s.search_failed_at nulls first, s.created_at, s.id limit $2
       ) backlog where bytes_before = 0 or bytes_before + size_bytes <= $3 order by bytes_before`,
      [olderThanMs, limit, maxBytes],
    );
    return rows.map(({ bytes_before: _, ...row }) => row);
  }

  /** Notes that a pass failed to index this segment: the backlog tries the others first. */
  async markSearchFailed(segmentId: string): Promise<void> {
    await (await this.pool()).query('update segments set search_failed_at = now() where id = $1', [segmentId]);
  }

  /** Marks a segment as held whole by the search index: searches ask the index instead of reading it. */
  async markSearchIndexed(segmentId: string): Promise<void> {
    await (await this.pool()).query('update segments set search_indexed = true where id = $1', [segmentId]);
  }

  /**
   * Items of these segments (in their order, then by item) whose lower-cased text contains
   * `folded`, with one of `roles` when given: at most `limit`, from after `after` (a segment's
   * position in `ids`, from 1, and an item) on. Each comes with its bytes of the segment's item index (its
   * offset and the next item's, float64 little-endian), so it can be read by its range at once.
   *
   * A common word is found among the first items read in order; the trigram index would collect
   * every item that holds it and sort them, which grows with the context (0.8 s for a word in one
   * item of ten in 100 MiB). So the next `SEARCH_PROBE_ITEMS` items of the segment the search is in
   * are read in order first; only when they do not hold `limit` matches does the index answer.
   */
  async searchItems(
    ids: readonly string[],
    folded: string,
    roles: readonly string[] | null,
    limit: number,
    after: { pos: number; item: number } = { pos: 0, item: -1 },
  ): Promise<FoundItem[]> {
    const pattern = `%${folded.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const pool = await this.pool();
    const pos = Math.max(after.pos, 1);
    const first = ids[pos - 1];
    if (first !== undefined) {
      const { rows } = await pool.query<FoundItem>(
        `select s.id as segment_id, $5::int as pos, w.item, substring(s.item_offsets from w.item * 8 + 1 for 16) as offsets
           from segments s cross join lateral (
             select ss.item, ss.folded, ss.role from segment_search ss
              where ss.segment_id = s.id and ss.item > $6::int order by ss.item limit $7) w
          where s.id = $1 and w.folded like $2 and ($3::text[] is null or w.role = any($3::text[]))
          order by w.item limit $4`,
        [first, pattern, roles, limit, pos, pos === after.pos ? after.item : -1, SEARCH_PROBE_ITEMS],
      );
      if (rows.length === limit) return rows;
    }
    const { rows } = await pool.query<FoundItem>(
      // per segment (a lateral join), so the index on (segment, text) looks at its rows only
      `select u.sid as segment_id, u.pos::int as pos, m.item, substring(s.item_offsets from m.item * 8 + 1 for 16) as offsets
         from unnest($1::uuid[]) with ordinality as u(sid, pos) join segments s on s.id = u.sid
         cross join lateral (
           select ss.item from segment_search ss
            where ss.segment_id = u.sid and ss.folded like $2 and ($3::text[] is null or ss.role = any($3::text[]))
              and (u.pos, ss.item) > ($5::int, $6::int)
            order by ss.item limit $4) m
        order by u.pos, m.item limit $4`,
      [ids, pattern, roles, limit, after.pos, after.item],
    );
    return rows;
  }

  /**
   * Records that a staged segment is now an object, and settles its context and any other holder
   * of it; a segment no longer staged is left alone. One round trip (see `markStoredBlock`),
   * committed synchronously: whoever sees `stored` may rely on it.
   */
  async markStored(segment: Segment, placement: ObjectPlacement, provider: StorageProvider): Promise<void> {
    await (await this.pool()).query(markStoredBlock(segment, placement, provider));
  }

  /** Records a segment's token counts (counted by a worker) and settles its context's totals. */
  async finalizeTokens(segment: Segment, counts: SegmentCounts, provider: StorageProvider): Promise<void> {
    await this.transaction(async (client) => {
      await lockContext(client, segment.context_id);
      await client.query(
        'update segments set token_count = $2, roles = $3, tokens_final = $4, item_tokens = $5 where id = $1',
        [segment.id, counts.token_count, JSON.stringify(counts.roles), counts.tokens_final, counts.item_tokens],
      );
      await refreshHolders(client, segment, provider);
    });
  }

  /**
   * Swaps `replaced` (a run of segments of the context's current version, from position `from`,
   * 1-based) for the compacted `segment`; false, with nothing written, when the current version no
   * longer holds that run there. The replaced segments no other version refers to (a kept old
   * version, a fork) are retired: the lifecycle pass removes them once no reader can still be on them.
   */
  async swapCompacted(
    segment: NewSegment,
    from: number,
    replaced: readonly string[],
    provider: StorageProvider,
  ): Promise<boolean> {
    return this.transaction(async (client) => {
      const version = await lockContext(client, segment.context_id);
      if (version === null) return false;
      const swapped = await client.query(
        `update versions set segments = segments[1:$4 - 1] || array[$3::uuid] || segments[$4 + $5:], compacted_at = now()
          where context_id = $1 and version = $2 and segments[$4:$4 + $5 - 1] = $6::uuid[]`,
        [segment.context_id, version, segment.id, from, replaced.length, replaced],
      );
      if (swapped.rowCount === 0) return false;
      await insertSegment(client, segment);
      await client.query(`update segments s set retired_at = now() where s.id = any($1::uuid[]) and ${UNREFERENCED}`, [
        replaced,
      ]);
      await refreshTotals(client, segment.context_id, provider);
      return true;
    });
  }

  /** Writes whose segment still waits for an upload or a count, untouched for `olderThanMs`: their job may be lost. */
  async findUnsettled(
    olderThanMs: number,
    limit: number,
  ): Promise<{ context_id: string; version: number; tenant_id: string }[]> {
    const { rows } = await (await this.pool()).query(
      `select s.context_id, s.version, c.tenant_id from segments s join contexts c on c.id = s.context_id
        where (s.state = 'staged' or not s.tokens_final) and s.kind = 'write' and s.retired_at is null
          and c.status in ('pending', 'stored') and s.created_at < now() - ($1::float8 * interval '1 millisecond')
        order by s.created_at limit $2`,
      [olderThanMs, limit],
    );
    return rows;
  }

  /**
   * Collects the versions no rule keeps any more — beyond the newest `keepVersions` superseded ones
   * and superseded longer than `keepForMs` ago — leaving each a tombstone (`collected_at`, its
   * totals, no segments); then retires, once older than `graceMs`, the segments no version of any
   * context refers to (reachability: a segment shared by forks or kept versions stays while one
   * of them needs it), and un-retires any a restore or fork took up again meanwhile.
   * Returns the versions collected.
   */
  async retireUnreferenced(graceMs: number, keepVersions: number, keepForMs = 0): Promise<number> {
    const pool = await this.pool();
    const { rowCount } = await pool.query(collectVersions(`not ${keptByRules('$1', '$2')}`, 'skip locked'), [
      keepVersions,
      keepForMs,
    ]);
    await pool.query(`update segments s set retired_at = null where s.retired_at is not null and ${REFERENCED}`);
    await pool.query(
      `update segments s set retired_at = now()
        where s.retired_at is null and s.created_at < now() - ($1::float8 * interval '1 millisecond') and ${UNREFERENCED}`,
      [graceMs],
    );
    return rowCount ?? 0;
  }

  /** Segments retired longer ago than `graceMs`: nobody can still be reading them. */
  async findRetired(graceMs: number, limit: number): Promise<Segment[]> {
    const { rows } = await (await this.pool()).query<Segment>(
      `select ${SEGMENT_COLUMNS} from segments s
        where s.retired_at < now() - ($1::float8 * interval '1 millisecond') and ${UNREFERENCED} limit $2`,
      [graceMs, limit],
    );
    return rows;
  }

  /** Deletes these segment rows, but none a version refers to (again: a restore or fork may have taken one up); the object keys of those deleted. */
  async remove(ids: readonly string[]): Promise<string[]> {
    const pool = await this.pool();
    const { rows } = await pool.query<{ object_key: string | null; context_id: string; data_key_id: string | null }>(
      `delete from segments s where s.id = any($1::uuid[]) and ${UNREFERENCED} returning s.object_key, s.context_id, s.data_key_id`,
      [ids],
    );
    // the last segments of a context purged while a fork shared them: its data key goes with them
    const sealed = new Set(rows.flatMap((r) => (r.data_key_id ? [r.context_id] : [])));
    if (sealed.size > 0) await deleteUnusedDataKeys(pool, [...sealed]);
    return rows.flatMap((r) => (r.object_key ? [r.object_key] : []));
  }

  /** The object keys of every segment of a context (current, superseded or retired). */
  async objectKeysOf(contextId: string): Promise<Set<string>> {
    const { rows } = await (await this.pool()).query<{ object_key: string }>(
      'select object_key from segments where context_id = $1 and object_key is not null',
      [contextId],
    );
    return new Set(rows.map((r) => r.object_key));
  }

  /** The kept versions of a context that a restore or fork made: those whose manifest object is kept. */
  async manifestedVersionsOf(contextId: string): Promise<number[]> {
    const { rows } = await (await this.pool()).query<{ version: number }>(
      `select version from versions where context_id = $1 and collected_at is null and kind in ('restore', 'fork')`,
      [contextId],
    );
    return rows.map((r) => r.version);
  }

  /**
   * The kept restore and fork versions of live contexts whose manifest object is still owed (its
   * put failed, or they were made before manifests existed or imported), oldest first.
   */
  async findManifestsOwed(limit: number): Promise<OwedManifest[]> {
    const { rows } = await (await this.pool()).query<OwedManifest>(
      `select v.context_id, v.version, v.kind, v.created_at, v.envelope, v.source_id, v.source_version
         from versions v join contexts c on c.id = v.context_id
        where ${MANIFEST_OWED} order by v.created_at, v.context_id, v.version limit $1`,
      [limit],
    );
    return rows;
  }

  /** How many manifests are owed (see findManifestsOwed). */
  async countManifestsOwed(): Promise<number> {
    const { rows } = await (await this.pool()).query<{ n: number }>(
      `select count(*)::int as n from versions v join contexts c on c.id = v.context_id where ${MANIFEST_OWED}`,
    );
    return rows[0]?.n ?? 0;
  }

  /** A version's manifest object is written: it no longer owes one. */
  async manifestStored(contextId: string, version: number): Promise<void> {
    await (await this.pool()).query(
      'update versions set manifest_pending = false where context_id = $1 and version = $2 and manifest_pending',
      [contextId, version],
    );
  }

  /**
   * Forgets every version of a context and every segment of it no other context's version refers
   * to (forks share segments). Returns the object keys of the segments kept for those: the caller
   * removes every other object and staged body of the context.
   */
  async removeContext(contextId: string): Promise<Set<string>> {
    const pool = await this.pool();
    await pool.query('delete from versions where context_id = $1', [contextId]);
    await pool.query(`delete from segments s where s.context_id = $1 and ${UNREFERENCED}`, [contextId]);
    // a key that segments shared with a fork still need is kept (they keep their context id), and
    // goes when the lifecycle pass removes the last of them
    await deleteUnusedDataKeys(pool, [contextId]);
    return this.objectKeysOf(contextId);
  }

  /** A transaction that commits only when `work` returns a committed version; a refusal rolls it back. */
  private async transactionOr<T extends CommittedVersion | CopyRefusal>(
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    let refusal: CopyRefusal | null = null;
    const result = await this.transaction(async (client) => {
      const outcome = await work(client);
      if (typeof outcome === 'string') {
        refusal = outcome;
        return null;
      }
      return outcome;
    });
    return (result ?? refusal) as T;
  }

  /** The versions of a context, newest first: only the current one, or every one still kept. */
  async versionsOf(contextId: string, currentOnly: boolean): Promise<VersionRow[]> {
    const { rows } = await (await this.pool()).query<VersionRow>(
      `select v.version, v.kind, v.created_at, v.segments::text[] as segments, v.source_id, v.source_version
         from versions v join contexts c on c.id = v.context_id
        where v.context_id = $1 and v.collected_at is null and (not $2 or v.version = c.version) order by v.version desc`,
      [contextId, currentOnly],
    );
    return rows;
  }

  /**
   * Inserts a whole context at once (import, rebuild): its row, its segments (one already present,
   * shared by another context, is kept) and its versions, then its totals, in one transaction;
   * 'exists', with nothing written, when a context with its id is already there. `owesManifests`:
   * its kept restore and fork versions owe their manifest object (an import: the bucket has none).
   */
  async insertWhole(
    row: ContextRow,
    segments: readonly NewSegment[],
    versions: readonly VersionRow[],
    provider: StorageProvider,
    owesManifests = false,
  ): Promise<'inserted' | 'exists'> {
    const outcome = await this.transaction(async (client) => {
      const columns = Object.keys(row) as (keyof ContextRow & string)[];
      const inserted = await client.query(
        `insert into contexts (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})
          on conflict (id) do nothing`,
        columns.map((c) => columnValue(c, row[c])),
      );
      if (inserted.rowCount === 0) return false;
      for (const segment of segments) await insertSegment(client, segment, true);
      for (const v of versions) {
        await client.query(
          `insert into versions (context_id, version, kind, segments, created_at, envelope, source_id, source_version,
              collected_at, collection_time_unknown, manifest_pending)
            values ($1, $2, $3, $4::uuid[], $5, $6, $7, $8, case when $9 then now() end, $9,
              $10::boolean and $3 in ('restore', 'fork') and not $9 and ${OWES_MANIFEST('$4::uuid[]')})`,
          [
            row.id,
            v.version,
            v.kind,
            v.segments,
            v.created_at,
            v.envelope ? envelopeJson(v.envelope) : null,
            v.source_id ?? null,
            v.source_version ?? null,
            v.collected ?? false,
            owesManifests,
          ],
        );
      }
      await refreshTotals(client, row.id, provider);
      // the time of its last change where it came from, not of this insert
      await client.query('update contexts set updated_at = $2 where id = $1', [row.id, row.updated_at]);
      return true;
    });
    return outcome ? 'inserted' : 'exists';
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await (await this.pool()).connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query(result === false || result === null ? 'rollback' : 'commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * The name of a write's statement, so each connection parses and plans it once (as `openLive`):
   * its text depends on the columns written, so the name carries a hash of it. None on PGlite.
   */
  private statementName(prefix: string, text: string): string | undefined {
    if (this.options.prepared === false) return undefined;
    return `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  }

  private pool(): Promise<Pool> {
    return this.orm.em.getConnection().getNativeClient();
  }
}

/** A value as the `pg` driver must send it: jsonb columns as JSON text (`system` may be null, a string or blocks). */
function columnValue(column: string, value: unknown): unknown {
  if (column === 'system') return value === null || value === undefined ? null : JSON.stringify(value);
  return column === 'metadata' || column === 'roles' ? JSON.stringify(value ?? {}) : value;
}

async function insertSegment(client: PoolClient, segment: NewSegment, keepExisting = false): Promise<void> {
  await client.query(
    `insert into segments (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})${keepExisting ? ' on conflict (id) do nothing' : ''}`,
    INSERT_COLUMNS.map((c) => columnValue(c, segment[c])),
  );
}

/** The fields a version keeps of its context (jsonb). */
function envelopeJson(row: VersionEnvelope): string {
  const { model_id, name, metadata, max_tokens, system } = row;
  return JSON.stringify({ model_id, name, metadata, max_tokens, system });
}

/** The envelope of a context as the commit's update left it (inside the commit's transaction). */
async function envelopeAfter(client: PoolClient, contextId: string): Promise<string> {
  const { rows } = await client.query<VersionEnvelope>(
    'select model_id, name, metadata, max_tokens, system from contexts where id = $1',
    [contextId],
  );
  return envelopeJson(rows[0] as VersionEnvelope);
}

/**
 * Deletes the data keys of these contexts that nothing uses any more: their context is gone or
 * being deleted, and no segment is sealed with them. A segment is sealed with the key of its own
 * context (writes, compactions and imports ask the keyring for that one), so only that context's
 * segments are looked at. Without its key, whatever copy of a sealed body is left (a backup, a
 * replica) stays sealed.
 */
async function deleteUnusedDataKeys(db: Pool | PoolClient, contextIds: readonly string[]): Promise<void> {
  await db.query(
    `delete from data_keys k where k.context_id = any($1::uuid[])
       and not exists (select 1 from contexts c where c.id = k.context_id and c.status <> 'deleting')
       and not exists (select 1 from segments s where s.context_id = k.context_id and s.data_key_id = k.id)`,
    [contextIds],
  );
}

/** A kept version's segments and fields, locked for share so the lifecycle pass cannot collect it before this transaction ends. */
async function keptVersion(
  client: PoolClient,
  contextId: string,
  version: number,
): Promise<{ segments: string[]; envelope: VersionEnvelope | null } | null> {
  const { rows } = await client.query<{ segments: string[]; envelope: VersionEnvelope | null }>(
    'select segments, envelope from versions where context_id = $1 and version = $2 and collected_at is null for share',
    [contextId, version],
  );
  return rows[0] ?? null;
}

/** A restore or fork took these segments up again: whatever the lifecycle pass retired of them stays. */
async function unretire(client: PoolClient, ids: readonly string[]): Promise<void> {
  await client.query('update segments set retired_at = null where id = any($1::uuid[]) and retired_at is not null', [
    ids,
  ]);
}

/**
 * Recomputes the totals of every context whose current version holds `segment` after it changed
 * (stored, counted): its own context and the forks sharing it, owner first (the order forks
 * were made in, so two such commits never wait on each other in a cycle).
 */
async function refreshHolders(client: PoolClient, segment: Segment, provider: StorageProvider): Promise<void> {
  await refreshTotals(client, segment.context_id, provider);
  const { rows } = await client.query<{ id: string }>(otherHolders('$1', '$2'), [segment.id, segment.context_id]);
  for (const { id } of rows) await refreshTotals(client, id, provider);
}

/** The query of the contexts other than `contextRef` whose current version holds segment `segmentRef`, in id order. */
function otherHolders(segmentRef: string, contextRef: string): string {
  return `select c.id from versions v join contexts c on c.id = v.context_id and c.version = v.version
           where v.segments @> array[${segmentRef}::uuid] and c.id <> ${contextRef} order by c.id`;
}

/**
 * `markStored` as one anonymous PL/pgSQL block, so one round trip where a transaction took six:
 * each statement in it still sees what committed before it began (read committed), so the totals
 * are summed under the context's lock as in `refreshHolders`. A DO block takes no parameters: the
 * values go in as escaped literals.
 */
function markStoredBlock(segment: Segment, placement: ObjectPlacement, provider: StorageProvider): string {
  const tag = '$mark_stored$';
  const literal = (value: string | number | null): string => {
    if (value === null) return 'null';
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
      return String(value);
    }
    if (value.includes('$')) throw new Error(`markStored: a value with a dollar sign cannot be inlined: ${value}`);
    return escapeLiteral(value);
  };
  const segmentId = literal(segment.id);
  const contextId = literal(segment.context_id);
  const providerName = literal(provider);
  return `do ${tag}
declare holder uuid;
begin
  perform 1 from contexts where id = ${contextId} for update;
  update segments set state = 'stored', object_key = ${literal(placement.object_key)}, etag = ${literal(placement.etag)},
         stored_bytes = ${literal(placement.stored_bytes)}, content_encoding = ${literal(placement.content_encoding)},
         encryption = ${literal(placement.encryption)}
   where id = ${segmentId} and state = 'staged';
  if not found then return; end if;
  ${totalsUpdate(contextId, providerName)};
  for holder in ${otherHolders(segmentId, contextId)} loop
    ${totalsUpdate('holder', providerName)};
  end loop;
end ${tag}`;
}

/** Takes the context row's lock for the rest of the transaction; its current version, or null if it is gone. */
async function lockContext(client: PoolClient, contextId: string): Promise<number | null> {
  const { rows } = await client.query<{ version: number }>('select version from contexts where id = $1 for update', [
    contextId,
  ]);
  return rows[0]?.version ?? null;
}

/**
 * Recomputes a context row's summary columns from the segments of its current version: item,
 * byte and token totals, whether every count is final, and `pending` while a segment is staged.
 * Runs under the row's lock, after the statement that changed what it sums.
 */
async function refreshTotals(
  client: PoolClient,
  contextId: string,
  provider: StorageProvider,
): Promise<CommittedVersion> {
  const { rows } = await client.query(`${totalsUpdate('$1', '$2')} returning c.*, t.tail_bytes`, [contextId, provider]);
  return committedRow(rows[0] ?? {});
}

/** The update behind `refreshTotals`, of the context `contextRef` names, with `providerRef` for its object's store. */
function totalsUpdate(contextRef: string, providerRef: string): string {
  return `with segs as (
       select s.*, u.pos from contexts c join versions v on v.context_id = c.id and v.version = c.version
         cross join unnest(v.segments) with ordinality as u(sid, pos) join segments s on s.id = u.sid
        where c.id = ${contextRef}),
     t as (
       select count(*)::int as n, coalesce(sum(item_count), 0)::int as items, coalesce(sum(size_bytes), 0)::bigint as bytes,
              coalesce(sum(token_count), 0)::int as tokens, coalesce(bool_and(tokens_final), true) as final,
              coalesce(bool_or(state = 'staged'), false) as staged,
              sum(case when state = 'stored' then stored_bytes else size_bytes end)::bigint as stored,
              (array_agg(object_key order by pos desc) filter (where object_key is not null))[1] as key,
              (array_agg(etag order by pos desc) filter (where object_key is not null))[1] as etag,
              (array_agg(content_encoding order by pos desc) filter (where object_key is not null))[1] as encoding,
              (array_agg(encryption order by pos desc) filter (where object_key is not null))[1] as encryption,
              case when count(*) = 1 then max(sha256) end as sha,
              coalesce(sum(size_bytes) filter (where pos > 1), 0)::float8 as tail_bytes
         from segs)
     update contexts c set
       message_count = t.items, size_bytes = t.bytes, token_count = t.tokens, tokens_final = t.final, segment_count = t.n,
       status = case when t.staged then (case when c.status = 'failed' then 'failed' else 'pending' end) else 'stored' end,
       stored_bytes = case when t.staged then null else t.stored end,
       storage_provider = case when t.key is null then 'database' else ${providerRef} end,
       storage_key = t.key, etag = t.etag, content_encoding = coalesce(t.encoding, 'identity'), encryption = t.encryption,
       sha256 = nullif(t.sha, ''), last_error = case when t.staged then c.last_error end, updated_at = now()
     from t where c.id = ${contextRef} and c.status <> 'deleting'`;
}

/**
 * The summary columns of a context whose current version is `segment` alone: what
 * `refreshTotals` computes from one segment, known before the row is written.
 */
function totalsOfOnly(row: ContextRow, segment: NewSegment, provider: StorageProvider): Partial<ContextRow> {
  const staged = segment.state === 'staged';
  const object = segment.object_key !== null;
  return {
    message_count: segment.item_count,
    size_bytes: segment.size_bytes,
    token_count: segment.token_count,
    tokens_final: segment.tokens_final,
    segment_count: 1,
    status: staged ? (row.status === 'failed' ? 'failed' : 'pending') : 'stored',
    stored_bytes: staged ? null : segment.state === 'stored' ? segment.stored_bytes : segment.size_bytes,
    storage_provider: object ? provider : 'database',
    storage_key: segment.object_key,
    etag: object ? segment.etag : null,
    content_encoding: object ? segment.content_encoding : 'identity',
    encryption: object ? segment.encryption : null,
    sha256: segment.sha256 || null,
    last_error: staged ? row.last_error : null,
  };
}

/** A row a commit returned (with its tail bytes), its bigint columns as numbers. */
function committedRow({ tail_bytes, ...row }: Record<string, unknown>): CommittedVersion {
  return {
    row: {
      ...(row as unknown as ContextRow),
      size_bytes: Number(row.size_bytes),
      stored_bytes: row.stored_bytes == null ? null : Number(row.stored_bytes),
    },
    tailBytes: Number(tail_bytes ?? 0),
  };
}
