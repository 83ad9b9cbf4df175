import { Migration } from '@mikro-orm/migrations';

/**
 * Staged chunks are written one short transaction each (no transaction stays open while a client
 * sends), so a body is only complete once its mark says so. Bodies staged before this migration
 * were written in one transaction: they are complete, and get their mark here.
 */
export class Migration20261126000000_staging_marks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "staged_bodies" ("context_id" uuid not null, "version" int not null, "started_at" timestamptz not null, "completed_at" timestamptz null, "bytes" bigint null, "chunks" int null, primary key ("context_id", "version"));`,
    );
    this.addSql(`create index "staged_bodies_started_idx" on "staged_bodies" ("started_at");`);
    this.addSql(
      `insert into "staged_bodies" ("context_id", "version", "started_at", "completed_at", "bytes", "chunks")
        select "context_id", "version", min("created_at"), max("created_at"), sum(octet_length("data")), count(*)
          from "staged_chunks" group by "context_id", "version";`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "staged_bodies";`);
  }
}
