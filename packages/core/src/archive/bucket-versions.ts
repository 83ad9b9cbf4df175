import type { VersionKind } from '@ctxvault/db';
import type { SegmentTrailer } from '../segment-format.ts';

/** A trailer that names its version's list and its context's fields (written since rebuilds exist). */
export type ListingTrailer = SegmentTrailer & Required<Pick<SegmentTrailer, 'list' | 'context'>>;

export function namesList(trailer: SegmentTrailer): trailer is ListingTrailer {
  return Boolean(trailer.list && trailer.context);
}

/**
 * For each version some trailer names, the trailer that names it last: of two lists of one version
 * (a write, then a compaction swapping some of its segments), the later written.
 */
export function newestLists(trailers: readonly ListingTrailer[]): Map<number, ListingTrailer> {
  const byVersion = new Map<number, ListingTrailer>();
  for (const t of trailers) {
    const seen = byVersion.get(t.list.version);
    if (!seen || (t.written_at ?? '') > (seen.written_at ?? '')) byVersion.set(t.list.version, t);
  }
  return byVersion;
}

/**
 * The segments of a version: the list a trailer names with the runs merged by the compactions of
 * that version put in place of those runs, oldest compaction first (a write's upload and a
 * compaction may overlap, so the newest list need not have them all). When segments are still
 * missing (removed since), the other compactions are tried too: one that began on an earlier
 * version swaps into the version current when it ends.
 */
export function segmentsOfList(
  named: ListingTrailer,
  trailers: readonly SegmentTrailer[],
  inBucket: (segmentId: string) => boolean,
): string[] {
  const compactions = trailers
    .filter((t) => t.kind === 'compacted' && t.merged?.length)
    .sort((a, b) => (a.written_at ?? '').localeCompare(b.written_at ?? ''));
  const list = withRunsReplaced(
    named.list.segments,
    compactions.filter((c) => c.list?.version === named.list.version),
  );
  return list.every(inBucket) ? list : withRunsReplaced(list, compactions);
}

/** `segments` with each run a compacted segment merged replaced by it, as long as one applies. */
function withRunsReplaced(segments: readonly string[], compactions: readonly SegmentTrailer[]): string[] {
  const list = [...segments];
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

/**
 * The write that made a version, from the object written for it: a first item past 0 is an append;
 * when compaction merged that object away, an append (a single-segment create or replace is never
 * compacted).
 */
export function kindOf(version: number, written: SegmentTrailer | undefined): VersionKind {
  if (version === 1) return 'create';
  return written && written.first_item === 0 ? 'replace' : 'append';
}
