import { Migration } from '@mikro-orm/migrations';

/**
 * The replica log: one row per object key the primary blob store holds (or just lost), saying
 * whether the replica is in step with it. `generation` grows with every write or removal of the key,
 * so a replication job only marks the state it copied; `replicated_at` is null while the replica
 * still owes that state (a copy, or for `deleted` rows a removal, after which the row goes).
 */
export class Migration20261126400000_replica extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "replica_objects" ("key" text not null primary key, "generation" bigint not null default 1, "deleted" boolean not null default false, "size_bytes" bigint null, "changed_at" timestamptz not null, "replicated_at" timestamptz null);`,
    );
    this.addSql(
      `create index "replica_objects_owed_idx" on "replica_objects" ("changed_at") where "replicated_at" is null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "replica_objects";`);
  }
}
