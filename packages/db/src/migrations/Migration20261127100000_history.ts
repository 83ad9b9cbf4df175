import { Migration } from '@mikro-orm/migrations';

/**
 * History and forks (docs/storage-model.md, "History and forks"). A version row outlives its
 * segments as a tombstone: `collected_at` says when the lifecycle pass let it go, and its totals are
 * kept for the history. `envelope` keeps the fields a replace may change (model, name, metadata,
 * budget, system), so an old version reads, restores and forks as it was. `source_id` and
 * `source_version` say which version a restore or a fork started from. A segment may now be
 * shared by versions of several contexts (forks): the GIN index answers "does any version still
 * refer to this segment", the lifecycle pass's reachability question.
 */
export class Migration20261127100000_history extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "versions" drop constraint if exists "versions_kind_check";`);
    this.addSql(
      `alter table "versions" add constraint "versions_kind_check" check ("kind" in ('create', 'replace', 'append', 'legacy', 'restore', 'fork'));`,
    );
    this.addSql(`alter table "versions" add column "envelope" jsonb null;`);
    this.addSql(`alter table "versions" add column "source_id" uuid null;`);
    this.addSql(`alter table "versions" add column "source_version" int null;`);
    this.addSql(`alter table "versions" add column "compacted_at" timestamptz null;`);
    this.addSql(`alter table "versions" add column "collected_at" timestamptz null;`);
    this.addSql(`alter table "versions" add column "item_count" bigint null;`);
    this.addSql(`alter table "versions" add column "size_bytes" bigint null;`);
    this.addSql(`alter table "versions" add column "token_count" bigint null;`);
    this.addSql(`create index "versions_segments_idx" on "versions" using gin ("segments");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "versions_segments_idx";`);
    this.addSql(`delete from "versions" where "kind" in ('restore', 'fork') or "collected_at" is not null;`);
    this.addSql(
      `alter table "versions" drop column "envelope", drop column "source_id", drop column "source_version", drop column "compacted_at", drop column "collected_at", drop column "item_count", drop column "size_bytes", drop column "token_count";`,
    );
    this.addSql(`alter table "versions" drop constraint if exists "versions_kind_check";`);
    this.addSql(
      `alter table "versions" add constraint "versions_kind_check" check ("kind" in ('create', 'replace', 'append', 'legacy'));`,
    );
  }
}
