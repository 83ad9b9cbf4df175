import { Migration } from '@mikro-orm/migrations';

/** A context's item format (existing contexts hold ctxvault items) and, for Anthropic, its `system`. */
export class Migration20261126300000_formats extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "contexts" add column "format" varchar(32) not null default 'ctxvault';`);
    this.addSql(`alter table "contexts" add column "system" jsonb null;`);
    this.addSql(
      `create index "contexts_tenant_format_created_idx" on "contexts" ("tenant_id", "format", "created_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "contexts_tenant_format_created_idx";`);
    this.addSql(`alter table "contexts" drop column if exists "system";`);
    this.addSql(`alter table "contexts" drop column if exists "format";`);
  }
}
