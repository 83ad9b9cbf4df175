import type { SearchText, Segment } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { normalizedOrNull, searchText } from './item-views.ts';
import type { SegmentStore } from './ports.ts';
import { parseRawItem } from './raw-items.ts';
import type { ContextItem, SearchInput } from './schemas.ts';
import type { SegmentReader } from './segment-reader.ts';
import { parsedItems } from './segment-window.ts';
import type { SearchResult } from './views.ts';

/** The search index's part of the segment store. */
export type SearchIndexStore = Pick<SegmentStore, 'searchIndexed' | 'keepSearchTexts' | 'searchItems'>;

/** Texts of a segment being indexed are written in batches of about this many bytes. */
const FLUSH_BYTES = 4 * 1024 * 1024;
/** Matched items read at once from their segments. */
const FETCH_PARALLEL = 8;

/**
 * Items of a version's segments whose text contains the query, in order. A segment the search index
 * holds is asked in Postgres (`like` over its items' lower-cased texts, a trigram index where
 * pg_trgm is installed) and only its matched items are read, each by its byte range; any other
 * segment is read whole, once, and its texts are added to the index on the way, so no search reads
 * the same segment twice. Case-sensitive and role filters are checked on the item itself. A sealed
 * segment (envelope encryption) is never indexed: its texts would sit in Postgres in the clear.
 */
export async function searchSegments(
  segs: readonly Segment[],
  store: SearchIndexStore,
  reader: SegmentReader,
  format: Format,
  input: SearchInput,
): Promise<Pick<SearchResult, 'matches' | 'truncated'>> {
  const folded = input.query.toLowerCase();
  const roles = input.roles ? new Set<string>(input.roles) : null;
  const hits = (text: string, lower: string) =>
    input.case_sensitive ? text.includes(input.query) : lower.includes(folded);
  // one more than the limit tells whether there were more
  const wanted = input.limit + 1;
  const matches: SearchResult['matches'] = [];
  const starts: number[] = [];
  segs.reduce((at, seg) => starts.push(at) && at + seg.item_count, 0);
  const indexed = await store.searchIndexed(segs.map((s) => s.id));

  for (let i = 0; i < segs.length && matches.length < wanted; ) {
    if (!indexed.has(segs[i]!.id)) {
      const seg = segs[i]!;
      const indexable = seg.data_key_id === null;
      let first = 0;
      let at = 0;
      let bytes = 0;
      const texts: SearchText[] = [];
      for await (const { item } of parsedItems(reader.lines([seg]))) {
        const view = normalizedOrNull(format, item);
        const text = view ? searchText(view) : JSON.stringify(item);
        const lower = text.toLowerCase();
        texts.push({ role: view?.role ?? '', folded: lower });
        bytes += lower.length;
        if (matches.length < wanted && (!roles || (view && roles.has(view.role))) && hits(text, lower))
          matches.push({ index: starts[i]! + at, item });
        at++;
        if (!indexable) texts.length = 0;
        else if (bytes >= FLUSH_BYTES) {
          await store.keepSearchTexts(seg.id, first, texts, false);
          first += texts.length;
          texts.length = 0;
          bytes = 0;
        }
      }
      if (indexable) await store.keepSearchTexts(seg.id, first, texts, true);
      i++;
      continue;
    }
    let end = i;
    while (end < segs.length && indexed.has(segs[end]!.id)) end++;
    const run = segs.slice(i, end);
    for (let after = { pos: 0, item: -1 }; matches.length < wanted; ) {
      const asked = wanted - matches.length;
      const found = await store.searchItems(
        run.map((s) => s.id),
        folded,
        roles && [...roles],
        asked,
        after,
      );
      const lines = await mapParallel(found, FETCH_PARALLEL, (f) => reader.line(run[f.pos - 1]!, f.item));
      for (const [k, f] of found.entries()) {
        const { item } = parseRawItem(lines[k]!);
        // the index answered by lower-cased text: a case-sensitive search checks the item itself
        if (input.case_sensitive && !textOf(format, item).includes(input.query)) continue;
        if (matches.length < wanted) matches.push({ index: starts[i + f.pos - 1]! + f.item, item });
      }
      if (found.length < asked) break;
      const last = found.at(-1)!;
      after = { pos: last.pos, item: last.item };
    }
    i = end;
  }
  return { matches: matches.slice(0, input.limit), truncated: matches.length > input.limit };
}

/** The text search looks in: the item's texts (text, reasoning, tool names, arguments and results), not its JSON keys or base64. */
function textOf(format: Format, item: ContextItem): string {
  const view = normalizedOrNull(format, item);
  return view ? searchText(view) : JSON.stringify(item);
}

/** `work` over `items`, at most `parallel` at a time, results in order. */
async function mapParallel<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const k = next++;
        results[k] = await work(items[k]!);
      }
    }),
  );
  return results;
}
