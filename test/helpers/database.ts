// A Postgres database per test file. Migrating takes a while, so a run migrates one template
// database once (test/setup/global.ts) and every file clones it: `CREATE DATABASE … WITH TEMPLATE`
// copies the files, a few milliseconds instead of running every migration again.
import { randomBytes } from 'node:crypto';
import { createOrm, migrate } from '@ctxvault/db';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh database: a clone of `template` when given (already migrated), otherwise created and,
 * unless `migrate` is false, migrated here (for scripts that run without the test setup).
 */
export async function createTestDatabase(
  adminUrl: string,
  options: { migrate?: boolean; template?: string } = {},
): Promise<TestDatabase> {
  const name = `ctxvault_test_${randomBytes(6).toString('hex')}`;
  const url = withDatabase(adminUrl, name);
  if (options.template && (options.migrate ?? true)) {
    await adminQuery(adminUrl, `create database "${name}" with template "${options.template}"`);
  } else {
    await adminQuery(adminUrl, `create database "${name}"`);
    if (options.migrate ?? true) await migrateDatabase(url);
  }
  return {
    url,
    name,
    drop: () => adminQuery(adminUrl, `drop database if exists "${name}" with (force)`),
  };
}

/** The migrated database a run clones its per-file databases from. Nothing may stay connected to it. */
export async function createTemplateDatabase(adminUrl: string): Promise<TestDatabase> {
  const template = await createTestDatabase(adminUrl);
  // a template must have no open connections while it is cloned: pooled ones may linger briefly
  await adminQuery(adminUrl, `alter database "${template.name}" with allow_connections false`);
  return template;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The rows of one query on the database at `url`, over a connection of its own. */
export async function queryRows<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function migrateDatabase(url: string): Promise<void> {
  const orm = await createOrm({ url, poolMax: 2 });
  try {
    await migrate(orm);
  } finally {
    await orm.close();
  }
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
