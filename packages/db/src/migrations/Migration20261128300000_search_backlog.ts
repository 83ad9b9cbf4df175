import { Migration } from '@mikro-orm/migrations';

/**
 * The workers index each segment they store or compact; the lifecycle pass indexes the rest
 * (segments stored before, or whose indexing failed). This partial index keeps finding those
 * cheap: it holds only stored segments in the clear that the search index does not hold yet.
 */
export class Migration20261128300000_search_backlog extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "segments_search_backlog_idx" on "segments" ("created_at")
        where not "search_indexed" and "state" = 'stored' and "data_key_id" is null and "format" = 'lines';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "segments_search_backlog_idx";`);
  }
}
