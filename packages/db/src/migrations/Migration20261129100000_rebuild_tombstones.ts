import { Migration } from '@mikro-orm/migrations';

/**
 * A version a rebuild from the bucket found collected (below the lowest one whose objects survive,
 * or named by no surviving object): a tombstone whose `collected_at` is the rebuild's time, an upper
 * bound, because when the lifecycle pass collected it went with the lost database.
 */
export class Migration20261129100000_rebuild_tombstones extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "versions" add column "collection_time_unknown" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "versions" drop column "collection_time_unknown";`);
  }
}
