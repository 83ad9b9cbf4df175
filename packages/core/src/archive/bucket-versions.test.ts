import { describe, expect, it } from 'vitest';
import type { DocumentEnvelope } from '../document.ts';
import type { SegmentTrailer } from '../segment-format.ts';
import { kindOf, type ListingTrailer, newestLists, segmentsOfList } from './bucket-versions.ts';

/** A trailer of segment `id`, written at minute `at`, naming version `version`'s `segments`. */
function trailer(
  id: string,
  at: number,
  version: number,
  segments: string[],
  extra: Partial<SegmentTrailer> = {},
): ListingTrailer {
  return {
    ctxvault_segment: 1,
    context_id: 'c',
    segment_id: id,
    version,
    first_item: 0,
    item_count: 1,
    size_bytes: 1,
    sha256: '',
    kind: 'write',
    written_at: `2026-01-01T00:${String(at).padStart(2, '0')}:00.000Z`,
    context: {} as DocumentEnvelope,
    list: { version, segments },
    ...extra,
  };
}

const everything = () => true;

describe('newestLists', () => {
  it('takes, for each version, the list written last', () => {
    const write = trailer('s4', 1, 4, ['s1', 's2', 's3', 's4']);
    const compacted = trailer('c', 2, 4, ['c', 's4'], { kind: 'compacted', merged: ['s1', 's2', 's3'] });
    const older = trailer('s3', 0, 3, ['s1', 's2', 's3']);
    const lists = newestLists([compacted, write, older]);
    expect([...lists.keys()].sort()).toEqual([3, 4]);
    expect(lists.get(4)).toBe(compacted);
    expect(lists.get(3)).toBe(older);
  });
});

describe('segmentsOfList', () => {
  const compaction = trailer('c', 1, 4, ['c', 's4'], { kind: 'compacted', merged: ['s1', 's2', 's3'] });

  it("applies the version's own compactions even to a list written after them (an upload and a compaction overlapping)", () => {
    const lateWrite = trailer('s4', 2, 4, ['s1', 's2', 's3', 's4']);
    expect(segmentsOfList(lateWrite, [compaction, lateWrite], everything)).toEqual(['c', 's4']);
  });

  it("leaves an older version's list alone while its segments are in the bucket", () => {
    const older = trailer('s3', 0, 3, ['s1', 's2', 's3']);
    const merged = trailer('c', 1, 4, ['c', 's4'], { kind: 'compacted', merged: ['s1', 's2'] });
    expect(segmentsOfList(older, [older, merged], everything)).toEqual(['s1', 's2', 's3']);
  });

  it('falls back to other versions’ compactions when merged segments are gone', () => {
    // began on version 4, swapped into version 5 (current when it ended)
    const next = trailer('s5', 2, 5, ['s1', 's2', 's3', 's4', 's5']);
    const inBucket = (id: string) => !['s1', 's2', 's3'].includes(id);
    expect(segmentsOfList(next, [compaction, next], inBucket)).toEqual(['c', 's4', 's5']);
  });

  it('applies nested compactions oldest first', () => {
    const first = trailer('c1', 1, 4, ['c1', 's3', 's4'], { kind: 'compacted', merged: ['s1', 's2'] });
    const second = trailer('c2', 3, 4, ['c2', 's4'], { kind: 'compacted', merged: ['c1', 's3'] });
    const write = trailer('s4', 0, 4, ['s1', 's2', 's3', 's4']);
    expect(segmentsOfList(write, [second, write, first], everything)).toEqual(['c2', 's4']);
  });
});

describe('kindOf', () => {
  it('tells the write from its object', () => {
    expect(kindOf(1, undefined)).toBe('create');
    expect(kindOf(2, trailer('s2', 0, 2, ['s2']))).toBe('replace');
    expect(kindOf(2, trailer('s2', 0, 2, ['s1', 's2'], { first_item: 5 }))).toBe('append');
    expect(kindOf(3, undefined)).toBe('append');
  });
});
