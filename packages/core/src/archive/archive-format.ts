import { FORMATS } from '@ctxvault/formats';
import { z } from 'zod';

/**
 * The portable archive of `ctxvault export` (docs/archive-format.md): NDJSON, one record a line,
 * optionally zstd- or gzip-compressed as a whole. A header, then per context: its record, its
 * versions, its segments each followed by exactly `item_count` lines, the items byte for byte as
 * stored; then an end record with the totals, so a cut-off archive is told from a whole one.
 */
export const ARCHIVE_FORMAT = 'ctxvault.archive';
export const ARCHIVE_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });
const uuid = z.uuid();

const headerRecordSchema = z.object({
  type: z.literal('header'),
  format: z.literal(ARCHIVE_FORMAT),
  archive_version: z.literal(ARCHIVE_VERSION),
  created_at: isoTime,
  /** `current`: each context's current version only; `all`: every version still kept */
  versions: z.enum(['current', 'all']),
  filter: z.object({
    tenant_id: z.string().nullable(),
    agent_id: z.string().nullable(),
    since: isoTime.nullable(),
  }),
});

const contextRecordSchema = z.object({
  type: z.literal('context'),
  id: uuid,
  tenant_id: z.string().min(1).max(128),
  agent_id: z.string().min(1).max(256),
  model_id: z.string().max(256).nullable(),
  session_id: z.string().max(256).nullable(),
  name: z.string().max(512).nullable(),
  format: z.enum(FORMATS),
  system: z.unknown().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  max_tokens: z.number().int().positive().nullable(),
  created_at: isoTime,
  updated_at: isoTime,
  expires_at: isoTime.nullable(),
  /** the current version, with its totals (compared on import to tell "already here" from a conflict) */
  version: z.number().int().positive(),
  message_count: z.number().int().nonnegative(),
  size_bytes: z.number().int().nonnegative(),
  token_count: z.number().int().nonnegative(),
});

const versionRecordSchema = z.object({
  type: z.literal('version'),
  context_id: uuid,
  version: z.number().int().positive(),
  kind: z.enum(['create', 'replace', 'append', 'legacy', 'restore', 'fork']),
  created_at: isoTime,
  /** its segments in order (each one's record follows the versions of its context) */
  segments: z.array(uuid),
  /** a restore's or a fork's source: the context (a restore's own) and the version it made current */
  source: z.object({ context_id: uuid, version: z.number().int().positive() }).nullish(),
});

const roleTally = z.object({ items: z.number().int().nonnegative(), tokens: z.number().int().nonnegative() });

const segmentRecordSchema = z.object({
  type: z.literal('segment'),
  context_id: uuid,
  id: uuid,
  version: z.number().int().nonnegative(),
  kind: z.enum(['write', 'compacted']),
  first_item: z.number().int().nonnegative(),
  item_count: z.number().int().nonnegative(),
  /** bytes of its item lines (each line with its `\n`) and their sha256 */
  size_bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  token_count: z.number().int().nonnegative(),
  tokens_final: z.boolean(),
  roles: z.record(z.string(), roleTally),
  /** per item its token count, u32 little-endian, base64; null while not counted */
  item_tokens: z.base64().nullable(),
  /** per item its role code (one byte: system, user, assistant, tool, 255 other), base64 */
  item_roles: z.base64().nullable(),
  first_timestamp: z.string().nullable(),
  last_timestamp: z.string().nullable(),
});

const endRecordSchema = z.object({
  type: z.literal('end'),
  contexts: z.number().int().nonnegative(),
  segments: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
  item_bytes: z.number().int().nonnegative(),
});

export const archiveRecordSchema = z.discriminatedUnion('type', [
  headerRecordSchema,
  contextRecordSchema,
  versionRecordSchema,
  segmentRecordSchema,
  endRecordSchema,
]);

export type ContextRecord = z.infer<typeof contextRecordSchema>;
export type VersionRecord = z.infer<typeof versionRecordSchema>;
export type SegmentRecord = z.infer<typeof segmentRecordSchema>;
export type ArchiveRecord = z.infer<typeof archiveRecordSchema>;

export function recordLine(record: ArchiveRecord): Buffer {
  return Buffer.from(`${JSON.stringify(record)}\n`);
}
