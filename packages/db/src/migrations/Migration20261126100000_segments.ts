import { Migration } from '@mikro-orm/migrations';

/**
 * A context version becomes an ordered list of immutable segments (docs/storage-model.md): an append
 * writes one segment, a replace a new base, compaction swaps many for one. Contexts stored before
 * this migration become one segment each in the old whole-document layout (`format = 'document'`).
 */
export class Migration20261126100000_segments extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "segments" (
        "id" uuid not null primary key,
        "context_id" uuid not null,
        "version" int not null,
        "kind" text not null check ("kind" in ('write', 'compacted')),
        "format" text not null default 'lines' check ("format" in ('lines', 'document')),
        "state" text not null check ("state" in ('inline', 'staged', 'stored')),
        "body" bytea null,
        "object_key" text null,
        "etag" varchar(128) null,
        "stored_bytes" bigint null,
        "content_encoding" varchar(32) not null default 'identity',
        "encryption" varchar(32) null,
        "first_item" bigint not null default 0,
        "item_count" int not null,
        "size_bytes" bigint not null,
        "sha256" varchar(64) not null,
        "token_count" bigint not null default 0,
        "roles" jsonb not null default '{}',
        "tokens_final" boolean not null,
        "item_offsets" bytea null,
        "item_tokens" bytea null,
        "item_roles" bytea null,
        "first_timestamp" text null,
        "last_timestamp" text null,
        "created_at" timestamptz not null default now(),
        "retired_at" timestamptz null
      );`,
    );
    this.addSql(`alter table "segments" alter column "body" set storage external;`);
    this.addSql(`create index "segments_context_idx" on "segments" ("context_id", "version");`);
    this.addSql(
      `create index "segments_unsettled_idx" on "segments" ("created_at") where "state" = 'staged' or not "tokens_final";`,
    );
    this.addSql(`create index "segments_retired_idx" on "segments" ("retired_at") where "retired_at" is not null;`);
    this.addSql(
      `create table "versions" (
        "context_id" uuid not null,
        "version" int not null,
        "kind" text not null check ("kind" in ('create', 'replace', 'append', 'legacy')),
        "segments" uuid[] not null,
        "created_at" timestamptz not null default now(),
        primary key ("context_id", "version")
      );`,
    );
    this.addSql(`alter table "contexts" add column "tokens_final" boolean not null default true;`);
    this.addSql(`alter table "contexts" add column "segment_count" int not null default 1;`);
    // every context of the old layout: one whole-document segment, one version
    this.addSql(
      `insert into "segments" ("id", "context_id", "version", "kind", "format", "state", "body", "object_key", "etag",
          "stored_bytes", "content_encoding", "encryption", "item_count", "size_bytes", "sha256", "token_count",
          "tokens_final", "created_at")
        select gen_random_uuid(), "id", "version", 'write', 'document',
          case when "status" in ('pending', 'failed') then 'staged' when "storage_provider" = 'database' then 'inline' else 'stored' end,
          "body", "storage_key", "etag", "stored_bytes", "content_encoding", "encryption", "message_count", "size_bytes",
          coalesce("sha256", ''), "token_count", true, "updated_at"
        from "contexts" where "status" <> 'deleting';`,
    );
    this.addSql(
      `insert into "versions" ("context_id", "version", "kind", "segments", "created_at")
        select "context_id", "version", 'legacy', array["id"], "created_at" from "segments";`,
    );
    this.addSql(`alter table "contexts" drop column "body";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "contexts" add column "body" bytea null;`);
    this.addSql(`alter table "contexts" drop column "segment_count";`);
    this.addSql(`alter table "contexts" drop column "tokens_final";`);
    this.addSql(`drop table if exists "versions";`);
    this.addSql(`drop table if exists "segments";`);
  }
}
