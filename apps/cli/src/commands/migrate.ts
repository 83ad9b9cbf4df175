import type { Config } from '@ctxvault/config';
import { createOrm, migrate } from '@ctxvault/db';

export async function runMigrate(config: Config): Promise<void> {
  if (!config.database.url) {
    throw new Error(
      'database.url (MCP_DATABASE_URL) is empty: `migrate` needs a postgres:// URL (`start` migrates its embedded database itself)',
    );
  }
  const orm = await createOrm({ url: config.database.url, poolMax: 1 });
  try {
    const applied = await migrate(orm);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await orm.close();
  }
}
