import { Migration } from '@mikro-orm/migrations';

/**
 * Envelope encryption (docs/storage-model.md, "Encryption at rest"): one data key per context,
 * stored only wrapped by a master key (a local key from settings, or AWS KMS) and named by
 * `master_key_id`, so that `ctxvault keys rotate-master` finds and re-wraps the keys of an old
 * master without touching a body. Contexts and segments name the data key their bodies are
 * sealed with (null: stored in the clear, before encryption was turned on).
 */
export class Migration20261127300000_envelope extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "data_keys" ("id" uuid not null primary key, "context_id" uuid not null, "tenant_id" varchar(128) not null, "provider" text not null, "master_key_id" text not null, "wrapped" bytea not null, "created_at" timestamptz not null, "rewrapped_at" timestamptz null);`,
    );
    this.addSql(`create unique index "data_keys_context_idx" on "data_keys" ("context_id");`);
    this.addSql(`create index "data_keys_master_idx" on "data_keys" ("master_key_id");`);
    this.addSql(`alter table "contexts" add column "data_key_id" uuid null;`);
    this.addSql(`alter table "segments" add column "data_key_id" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segments" drop column if exists "data_key_id";`);
    this.addSql(`alter table "contexts" drop column if exists "data_key_id";`);
    this.addSql(`drop table if exists "data_keys";`);
  }
}
