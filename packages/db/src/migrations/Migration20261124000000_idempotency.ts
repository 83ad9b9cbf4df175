import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000_idempotency extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "contexts" add column "idempotency_key" varchar(256) null;`);
    this.addSql(
      `create unique index "contexts_tenant_idempotency_key_uniq" on "contexts" ("tenant_id", "idempotency_key") where "idempotency_key" is not null;`,
    );
    this.addSql(`create index "staged_chunks_created_idx" on "staged_chunks" ("created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "staged_chunks_created_idx";`);
    this.addSql(`drop index if exists "contexts_tenant_idempotency_key_uniq";`);
    this.addSql(`alter table "contexts" drop column if exists "idempotency_key";`);
  }
}
