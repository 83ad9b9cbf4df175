import { Migration } from '@mikro-orm/migrations';

export class Migration20261123000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "contexts" ("id" uuid not null, "tenant_id" varchar(128) not null default 'default', "agent_id" varchar(256) not null, "model_id" varchar(256) null, "session_id" varchar(256) null, "name" varchar(512) null, "status" text not null, "version" int not null, "storage_provider" text not null, "storage_key" text null, "etag" varchar(128) null, "size_bytes" bigint not null default '0', "stored_bytes" bigint null, "sha256" varchar(64) null, "content_encoding" varchar(32) not null default 'identity', "encryption" varchar(32) null, "message_count" int not null default 0, "token_count" int not null default 0, "max_tokens" int null, "metadata" jsonb not null, "body" bytea null, "job_id" varchar(256) null, "last_error" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "expires_at" timestamptz null, "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `create index "contexts_tenant_agent_created_idx" on "contexts" ("tenant_id", "agent_id", "created_at");`,
    );
    this.addSql(`create index "contexts_session_idx" on "contexts" ("tenant_id", "session_id");`);
    this.addSql(`create index "contexts_expires_idx" on "contexts" ("expires_at");`);
    this.addSql(`create index "contexts_status_idx" on "contexts" ("status", "updated_at");`);
    this.addSql(`create index "contexts_metadata_gin_idx" on "contexts" using gin ("metadata");`);
    this.addSql(
      `alter table "contexts" add constraint "contexts_status_check" check ("status" in ('pending', 'stored', 'failed', 'deleting'));`,
    );
    this.addSql(
      `alter table "contexts" add constraint "contexts_storage_provider_check" check ("storage_provider" in ('database', 'local', 's3'));`,
    );
    this.addSql(
      `create table "staged_chunks" ("context_id" uuid not null, "version" int not null, "seq" int not null, "data" bytea not null, "created_at" timestamptz not null, primary key ("context_id", "version", "seq"));`,
    );
    // staged bodies are read once and deleted: skip TOAST compression, it only costs CPU
    this.addSql(`alter table "staged_chunks" alter column "data" set storage external;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "staged_chunks";`);
    this.addSql(`drop table if exists "contexts";`);
  }
}
