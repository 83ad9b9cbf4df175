import { Migration } from '@mikro-orm/migrations';

/**
 * When the lifecycle pass last failed to index a segment for search (its object lost or unreadable,
 * its context purged meanwhile). The backlog takes segments never tried first, so one that keeps
 * failing can no longer hold the head of the backlog, and with it the byte budget of every pass.
 */
export class Migration20261130100000_search_backlog_attempts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "segments" add column "search_failed_at" timestamptz null;`);
    this.addSql(`drop index if exists "segments_search_backlog_idx";`);
    this.addSql(
      `create index "segments_search_backlog_idx" on "segments" ("search_failed_at" nulls first, "created_at", "id")
        where not "search_indexed" and "state" = 'stored' and "data_key_id" is null and "format" = 'lines';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "segments_search_backlog_idx";`);
    this.addSql(
      `create index "segments_search_backlog_idx" on "segments" ("created_at")
        where not "search_indexed" and "state" = 'stored' and "data_key_id" is null and "format" = 'lines';`,
    );
    this.addSql(`alter table "segments" drop column "search_failed_at";`);
  }
}
