import type { Segment } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { parseRawItem } from './raw-items.ts';
import type { SearchInput } from './schemas.ts';
import { type SearchIndexStore, searchEntry } from './search-index.ts';
import type { SegmentReader } from './segment-reader.ts';
import { parsedItems } from './segment-window.ts';
import type { SearchResult } from './views.ts';

/** Matched items read at once from their segments. */
const FETCH_PARALLEL = 16;

/**
 * Items of a version's segments whose text contains the query, in order. A segment the search index
 * holds (the workers index each segment they store or compact) is asked in Postgres (`like` over
 * its items' lower-cased texts, a trigram index where pg_trgm is installed) and only its matched
 * items are read, each by its byte range. A segment not indexed (yet) — inline appends, a segment
 * still staged, a sealed one (envelope encryption: its texts never go to Postgres) — is read and
 * matched as it streams. Case-sensitive and role filters are checked on the item itself.
 */
export async function searchSegments(
  segs: readonly Segment[],
  store: Pick<SearchIndexStore, 'searchIndexed' | 'searchItems'>,
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
      let at = 0;
      for await (const { item } of parsedItems(reader.lines([segs[i]!]))) {
        const { role, text, folded: lower } = searchEntry(format, item);
        if ((!roles || roles.has(role)) && hits(text, lower)) matches.push({ index: starts[i]! + at, item });
        if (matches.length >= wanted) break;
        at++;
      }
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
      // segment by segment, the matches that lie close together in one range read
      const lines: Buffer[] = [];
      for (const group of Map.groupBy(found, (f) => f.pos).values()) {
        const items = group.map((f) => ({ index: f.item, offsets: f.offsets }));
        lines.push(...(await reader.linesNear(run[group[0]!.pos - 1]!, items, FETCH_PARALLEL)));
      }
      for (const [k, f] of found.entries()) {
        const { item } = parseRawItem(lines[k]!);
        // the index answered by lower-cased text: a case-sensitive search checks the item itself
        if (input.case_sensitive && !searchEntry(format, item).text.includes(input.query)) continue;
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
