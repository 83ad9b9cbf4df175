// The workers' side of the search index (`segment_search`): a segment's item texts are written
// once, when a worker stores the segment or compacts it, so that searches only ask Postgres.
import type { SearchText, Segment } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { normalizedOrNull, searchText } from './item-views.ts';
import type { SegmentStore } from './ports.ts';
import type { ContextItem } from './schemas.ts';
import type { SegmentReader } from './segment-reader.ts';
import { parsedItems } from './segment-window.ts';

/** The search index's part of the segment store. */
export type SearchIndexStore = Pick<
  SegmentStore,
  'searchIndexed' | 'keepSearchTexts' | 'copySearchTexts' | 'markSearchIndexed' | 'searchItems'
>;

/** Texts of a segment being indexed are written in batches of about this many bytes. */
const FLUSH_BYTES = 4 * 1024 * 1024;

/** An item's entry in the index: the role its format's view gives it, and its text lower-cased. */
export function searchEntry(format: Format, item: ContextItem): SearchText & { text: string; role: string } {
  const view = normalizedOrNull(format, item);
  const text = view ? searchText(view) : JSON.stringify(item);
  return { role: view?.role ?? '', text, folded: text.toLowerCase() };
}

/**
 * Whether a segment's texts may be kept in the index: never those of a sealed segment (envelope
 * encryption), whose texts would sit in Postgres in the clear.
 */
function indexable(seg: Pick<Segment, 'data_key_id' | 'format'>): boolean {
  return seg.data_key_id === null && seg.format === 'lines';
}

/**
 * Writes one segment's entries as its items come (from item `first` on), in batches; `finish`
 * writes the rest and marks the segment as held whole, so searches stop reading it.
 */
class SearchTextWriter {
  private texts: SearchText[] = [];
  private bytes = 0;

  constructor(
    private readonly store: Pick<SearchIndexStore, 'keepSearchTexts' | 'markSearchIndexed'>,
    private readonly segmentId: string,
    private readonly format: Format,
    private next = 0,
  ) {}

  async add(item: ContextItem): Promise<void> {
    const { role, folded } = searchEntry(this.format, item);
    this.texts.push({ role, folded });
    this.bytes += folded.length;
    if (this.bytes >= FLUSH_BYTES) await this.flush();
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.store.markSearchIndexed(this.segmentId);
  }

  /** Writes the entries added so far. */
  async flush(): Promise<void> {
    if (this.texts.length === 0) return;
    await this.store.keepSearchTexts(this.segmentId, this.next, this.texts);
    this.next += this.texts.length;
    this.texts = [];
    this.bytes = 0;
  }
}

/**
 * Indexes a segment (read whole once) unless it is sealed or already indexed; whether it is indexed
 * now. Once `signal` is aborted it stops before its next write and leaves the segment unmarked: the
 * entries written so far are rewritten in place by whoever indexes it next (the lifecycle's backlog),
 * and searches read an unmarked segment itself meanwhile.
 */
export async function indexSegment(
  store: SearchIndexStore,
  reader: SegmentReader,
  seg: Segment,
  format: Format,
  signal?: AbortSignal,
): Promise<boolean> {
  if (!indexable(seg)) return false;
  if ((await store.searchIndexed([seg.id])).has(seg.id)) return true;
  const writer = new SearchTextWriter(store, seg.id, format);
  for await (const { item } of parsedItems(reader.lines([seg]))) {
    if (signal?.aborted) return false;
    await writer.add(item);
  }
  if (signal?.aborted) return false;
  await writer.finish();
  return true;
}

/**
 * Indexes a compacted segment from the segments it merged: the entries of those already indexed
 * are copied in Postgres (shifted to their place in the merge), only the others are read.
 */
export async function indexMerged(
  store: SearchIndexStore,
  reader: SegmentReader,
  merged: Pick<Segment, 'id' | 'data_key_id'>,
  run: readonly Segment[],
  format: Format,
): Promise<boolean> {
  // a merged segment is always of item lines
  if (merged.data_key_id !== null) return false;
  const indexed = await store.searchIndexed(run.map((s) => s.id));
  let shift = 0;
  for (const seg of run) {
    if (indexed.has(seg.id)) await store.copySearchTexts(seg.id, merged.id, shift);
    else {
      const writer = new SearchTextWriter(store, merged.id, format, shift);
      for await (const { item } of parsedItems(reader.lines([seg]))) await writer.add(item);
      // the merged segment is marked once, below, when every part is in
      await writer.flush();
    }
    shift += seg.item_count;
  }
  await store.markSearchIndexed(merged.id);
  return true;
}
