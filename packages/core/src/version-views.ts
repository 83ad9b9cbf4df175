import type { ContextRow, Segment, StorageProvider, VersionRecord } from '@ctxvault/db';
import { z } from 'zod';

/** A version as `GET /contexts/{id}/versions` lists it. */
export const versionViewSchema = z.object({
  version: z.number().int(),
  /** the write that made it: create, append, replace, restore (of `source.version`), fork (of `source`), legacy (stored before history) */
  kind: z.enum(['create', 'append', 'replace', 'restore', 'fork', 'legacy']),
  /** the context's current version */
  current: z.boolean(),
  /** `kept`: readable with ?version=N, restorable, forkable; `collected`: gone (410), only its totals remain */
  state: z.enum(['kept', 'collected']),
  created_at: z.iso.datetime(),
  /** when compaction last merged some of its segments (its items unchanged) */
  compacted_at: z.iso.datetime().nullable(),
  /** null while kept, and for a version a rebuild from the bucket found collected (when it went is not known) */
  collected_at: z.iso.datetime().nullable(),
  message_count: z.number().int(),
  size_bytes: z.number().int(),
  token_count: z.number().int(),
  tokens_final: z.boolean(),
  /** the segments it is made of (0 once collected) */
  segments: z.number().int(),
  /** the version a restore or fork started from */
  source: z.object({ context_id: z.uuid(), version: z.number().int() }).nullable(),
});
export type VersionView = z.infer<typeof versionViewSchema>;

export const versionListSchema = z.object({ items: z.array(versionViewSchema), next_cursor: z.string().nullable() });

export function toVersionView(record: VersionRecord, currentVersion: number): VersionView {
  return {
    version: record.version,
    kind: record.kind,
    current: record.version === currentVersion,
    state: record.collected_at ? 'collected' : 'kept',
    created_at: iso(record.created_at),
    compacted_at: record.compacted_at ? iso(record.compacted_at) : null,
    collected_at: record.collected_at && !record.collection_time_unknown ? iso(record.collected_at) : null,
    message_count: Number(record.item_count),
    size_bytes: Number(record.size_bytes),
    token_count: Number(record.token_count),
    tokens_final: record.tokens_final,
    segments: record.segments,
    source:
      record.source_id && record.source_version !== null
        ? { context_id: record.source_id, version: record.source_version }
        : null,
  };
}

/**
 * The context row as it stood at an old version: its fields then (a replace may have changed
 * them since) and the totals and storage of that version's segments — what `refreshTotals`
 * computes for the current one.
 */
export function rowAtVersion(
  row: ContextRow,
  record: VersionRecord,
  segs: readonly Segment[],
  objectProvider: StorageProvider,
): ContextRow {
  const last = segs.findLast((s) => s.object_key);
  const staged = segs.some((s) => s.state === 'staged');
  return {
    ...row,
    ...(record.envelope ?? {}),
    version: record.version,
    status: staged ? 'pending' : 'stored',
    message_count: Number(record.item_count),
    size_bytes: Number(record.size_bytes),
    token_count: Number(record.token_count),
    tokens_final: record.tokens_final,
    segment_count: segs.length,
    updated_at: new Date(record.created_at),
    storage_provider: last ? objectProvider : 'database',
    storage_key: last?.object_key ?? null,
    etag: last?.etag ?? null,
    stored_bytes: staged
      ? null
      : segs.reduce((sum, s) => sum + (s.state === 'stored' ? Number(s.stored_bytes) : Number(s.size_bytes)), 0),
    sha256: segs.length === 1 ? segs[0]?.sha256 || null : null,
    content_encoding: last?.content_encoding ?? 'identity',
    encryption: last?.encryption ?? null,
  };
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}
