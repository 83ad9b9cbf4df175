import { Migration } from '@mikro-orm/migrations';

/**
 * The search index as the workers keep it. Now that every stored segment is indexed, the trigram
 * index over all of `segment_search` would match a common word in every context's rows: it is
 * replaced by one on (segment, text) (btree_gin, a trusted extension like pg_trgm), so a search
 * looks only at the rows of its context's segments. The lifecycle pass indexes what the workers
 * did not (segments stored before, or whose indexing failed): a partial index keeps finding those
 * cheap, holding only stored segments in the clear that the search index does not hold yet.
 */
export class Migration20261128300000_search_by_workers extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "segments_search_backlog_idx" on "segments" ("created_at")
        where not "search_indexed" and "state" = 'stored' and "data_key_id" is null and "format" = 'lines';`,
    );
    this.addSql(
      `do $$ begin create extension if not exists btree_gin;
        exception when others then raise notice 'btree_gin unavailable (%): search keeps the trigram index alone', sqlerrm; end $$;`,
    );
    this.addSql(
      `do $$ begin
        if exists (select 1 from pg_extension where extname = 'pg_trgm') and exists (select 1 from pg_extension where extname = 'btree_gin') then
          create index "segment_search_segment_folded_idx" on "segment_search" using gin ("segment_id", "folded" gin_trgm_ops);
          drop index if exists "segment_search_folded_idx";
        end if; end $$;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "segments_search_backlog_idx";`);
    this.addSql(
      `do $$ begin
        if exists (select 1 from pg_extension where extname = 'pg_trgm') then
          create index if not exists "segment_search_folded_idx" on "segment_search" using gin ("folded" gin_trgm_ops);
        end if; end $$;`,
    );
    this.addSql(`drop index if exists "segment_search_segment_folded_idx";`);
  }
}
