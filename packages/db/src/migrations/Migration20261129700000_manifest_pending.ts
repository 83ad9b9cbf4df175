import { Migration } from '@mikro-orm/migrations';

/**
 * Whether a restore's or fork's version still owes its manifest object (docs/storage-model.md,
 * "Version manifests"): set in the transaction that commits the version, cleared once the object is
 * written; the lifecycle pass writes those still owed. The kept restores and forks made before
 * manifests existed (or whose manifest put failed unrecorded) owe one, unless every segment of
 * theirs is inline (nothing of them is in the bucket).
 */
export class Migration20261129700000_manifest_pending extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "versions" add column "manifest_pending" boolean not null default false;`);
    this.addSql(
      `update "versions" v set "manifest_pending" = true
        where v."kind" in ('restore', 'fork') and v."collected_at" is null
          and exists (select 1 from "segments" s where s."id" = any(v."segments") and s."state" <> 'inline');`,
    );
    this.addSql(`create index "versions_manifest_pending_idx" on "versions" ("created_at") where "manifest_pending";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "versions_manifest_pending_idx";`);
    this.addSql(`alter table "versions" drop column "manifest_pending";`);
  }
}
