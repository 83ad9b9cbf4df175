import { Migration } from '@mikro-orm/migrations';

export class Migration20261126200000_security extends Migration {
  override async up(): Promise<void> {
    // an API key is kept only as the SHA-256 of its secret; `prefix` is its public, unique name
    this.addSql(`create table "api_keys" (
      "id" uuid not null primary key,
      "prefix" varchar(32) not null,
      "secret_sha256" char(64) not null,
      "tenant_id" varchar(128) not null,
      "scopes" text[] not null,
      "name" varchar(256) null,
      "created_at" timestamptz not null,
      "expires_at" timestamptz null,
      "last_used_at" timestamptz null,
      "revoked_at" timestamptz null
    );`);
    this.addSql(`create unique index "api_keys_prefix_uniq" on "api_keys" ("prefix");`);
    this.addSql(`create index "api_keys_tenant_idx" on "api_keys" ("tenant_id", "created_at");`);
    // what a create with an Idempotency-Key asked for, so a reuse with another request is told apart
    this.addSql(`alter table "contexts" add column "idempotency_fingerprint" char(64) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "contexts" drop column if exists "idempotency_fingerprint";`);
    this.addSql(`drop table if exists "api_keys";`);
  }
}
