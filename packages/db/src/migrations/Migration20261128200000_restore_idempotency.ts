import { Migration } from '@mikro-orm/migrations';

/**
 * An `Idempotency-Key` on a restore: kept on the version the restore made, with the fingerprint of
 * the request, so a retry answers that restore instead of making another version. One key makes at
 * most one version of a context; a key is looked up across the tenant's contexts.
 */
export class Migration20261128200000_restore_idempotency extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "versions" add column "idempotency_key" varchar(256) null;`);
    this.addSql(`alter table "versions" add column "idempotency_fingerprint" char(64) null;`);
    this.addSql(
      `create unique index "versions_context_idempotency_key_uniq" on "versions" ("context_id", "idempotency_key") where "idempotency_key" is not null;`,
    );
    this.addSql(
      `create index "versions_idempotency_key_idx" on "versions" ("idempotency_key") where "idempotency_key" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "versions_idempotency_key_idx";`);
    this.addSql(`drop index if exists "versions_context_idempotency_key_uniq";`);
    this.addSql(`alter table "versions" drop column "idempotency_key", drop column "idempotency_fingerprint";`);
  }
}
