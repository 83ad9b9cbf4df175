import { Migration } from '@mikro-orm/migrations';

/**
 * Appends update their context's row in place (a HOT update: no new entry in any of its indexes).
 * Postgres can only do that when no indexed column changes and the row's page has room: the
 * index on (status, updated_at), which every append's `updated_at` changed, becomes a partial
 * index on the status of the rows the lifecycle pass looks for (pending, deleting), which an
 * append leaves as it is; and the table keeps a fifth of each page free for the new row versions.
 */
export class Migration20261129600000_hot_appends extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "contexts_status_idx";`);
    this.addSql(
      `create index if not exists "contexts_unsettled_idx" on "contexts" ("status") where "status" in ('pending', 'deleting');`,
    );
    this.addSql(`alter table "contexts" set (fillfactor = 80);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "contexts" reset (fillfactor);`);
    this.addSql(`drop index if exists "contexts_unsettled_idx";`);
    this.addSql(`create index if not exists "contexts_status_idx" on "contexts" ("status", "updated_at");`);
  }
}
