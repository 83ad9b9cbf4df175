import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ContextRow, OwedManifest, Segment } from '@ctxvault/db';
import type { CoreDeps } from './ports.ts';
import { trailerLine } from './segment-format.ts';
import { putSegmentObject } from './segment-objects.ts';
import { envelopeOf } from './views.ts';

/** The sha256 of no items: a manifest's. */
const NO_ITEMS = createHash('sha256').digest('hex');

/**
 * The id a version's manifest is stored under (in place of a segment id in its key): derived from
 * the context and version, so writing it again (a retry) puts the same object, and the lifecycle
 * pass tells a kept version's manifest from an orphan by its key alone.
 */
export function manifestId(contextId: string, version: number): string {
  const hex = createHash('sha256').update(`ctxvault-manifest ${contextId.toLowerCase()} ${version}`).digest('hex');
  // laid out as a UUID (version 8, RFC 9562 variant), as keys require
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A version that wrote no segment of its own, as its manifest describes it. */
export interface ManifestedVersion {
  /** the context as the version left it (its `version` is the version's number) */
  row: ContextRow;
  kind: 'restore' | 'fork';
  /** the version's segments, in order (a fork's are its source's) */
  segments: readonly Pick<Segment, 'id' | 'state'>[];
  source: { context_id: string; version: number };
  /** when the version was made (default: now, for a manifest written as it is made) */
  written_at?: Date;
}

/**
 * A version still owing its manifest as the request that made it would have described it: the
 * context's row (`live`, today's) with the fields the version kept and its number, and its segments.
 */
export function owedManifest(
  owed: OwedManifest,
  live: ContextRow,
  segments: readonly Pick<Segment, 'id' | 'state'>[],
): ManifestedVersion {
  return {
    row: { ...live, ...(owed.envelope ?? {}), version: owed.version },
    kind: owed.kind,
    segments,
    source: { context_id: owed.source_id, version: owed.source_version },
    written_at: new Date(owed.created_at),
  };
}

/**
 * Writes the manifest of a restore's or a fork's version (docs/storage-model.md, "Version
 * manifests"): an object with no items whose trailer names the version's segments, the write that
 * made it and the context's fields, so that a rebuild from the bucket recreates it. One small
 * object whatever the size of the context, sealed with the context's data key when bodies are
 * sealed, and mirrored to the replica like every object. Nothing is written when every segment
 * is inline (nothing of the version is in the bucket).
 */
export async function putVersionManifest(
  deps: Pick<CoreDeps, 'blobs' | 'settings' | 'keyring'>,
  manifested: ManifestedVersion,
): Promise<string | null> {
  const { row, kind, segments, source, written_at = new Date() } = manifested;
  if (segments.every((s) => s.state === 'inline')) return null;
  const id = manifestId(row.id, row.version);
  const dataKeyId = deps.keyring?.sealing ? (await deps.keyring.forContext(row.tenant_id, row.id)).id : null;
  const trailer = trailerLine({
    context_id: row.id,
    segment_id: id,
    version: row.version,
    first_item: 0,
    item_count: 0,
    size_bytes: 0,
    sha256: NO_ITEMS,
    kind,
    written_at: written_at.toISOString(),
    context: envelopeOf(row),
    list: { version: row.version, segments: segments.map((s) => s.id) },
    source,
  });
  const placement = await putSegmentObject(
    deps,
    {
      id,
      context_id: row.id,
      version: row.version,
      first_item: 0,
      item_count: 0,
      sha256: NO_ITEMS,
      data_key_id: dataKeyId,
    },
    Readable.from([trailer]),
    { plainLength: trailer.length },
  );
  return placement.object_key;
}

/** The version number in the key of a purged context's mark (no version is numbered 0). */
export const DELETED_MARK = 0;

/**
 * Marks a purged context whose segments a fork still shares (their objects stay under its prefix):
 * an object with no items, kind `deleted`, so that a rebuild from the bucket does not bring the
 * context back from those objects (it rebuilds the forks from them). The lifecycle pass removes the
 * mark with the last of them.
 */
export async function putDeletionMark(deps: Pick<CoreDeps, 'blobs' | 'settings'>, contextId: string): Promise<void> {
  const id = manifestId(contextId, DELETED_MARK);
  const trailer = trailerLine({
    context_id: contextId,
    segment_id: id,
    version: DELETED_MARK,
    first_item: 0,
    item_count: 0,
    size_bytes: 0,
    sha256: NO_ITEMS,
    kind: 'deleted',
    written_at: new Date().toISOString(),
  });
  const mark = { id, context_id: contextId, version: DELETED_MARK, first_item: 0, item_count: 0 };
  await putSegmentObject(
    { ...deps, keyring: undefined },
    { ...mark, sha256: NO_ITEMS, data_key_id: null },
    Readable.from([trailer]),
    { plainLength: trailer.length },
  );
}
