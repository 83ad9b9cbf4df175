import { Migration } from '@mikro-orm/migrations';

/**
 * The search index: each item's searchable text, lower-cased, per segment (segments are immutable,
 * so their rows never go stale and go with the segment). `search` fills it for a segment the first
 * time it reads it; later searches ask it instead of reading bodies. With the pg_trgm extension (a
 * trusted extension: a database owner may create it) a trigram index answers `like '%…%'`; where it
 * cannot be created (PGlite, a role without CREATE) searches scan the context's rows instead.
 */
export class Migration20261127400000_search_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "segments" add column "search_indexed" boolean not null default false;`);
    // whether any item of the segment calls a tool (a later result may answer it); null: not known
    this.addSql(`alter table "segments" add column "has_calls" boolean null;`);
    this.addSql(
      `create table "segment_search" (
        "segment_id" uuid not null references "segments" ("id") on delete cascade,
        "item" int not null,
        "role" text not null,
        "folded" text not null,
        primary key ("segment_id", "item")
      );`,
    );
    this.addSql(
      `do $$ begin create extension if not exists pg_trgm;
        exception when others then raise notice 'pg_trgm unavailable (%): search scans its rows', sqlerrm; end $$;`,
    );
    this.addSql(
      `do $$ begin
        if exists (select 1 from pg_extension where extname = 'pg_trgm') then
          create index "segment_search_folded_idx" on "segment_search" using gin ("folded" gin_trgm_ops);
        end if; end $$;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "segment_search";`);
    this.addSql(`alter table "segments" drop column "search_indexed";`);
    this.addSql(`alter table "segments" drop column "has_calls";`);
  }
}
