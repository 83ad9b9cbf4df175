import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { ContextEntity } from './entities/context.entity.ts';
import { StagedBodyEntity } from './entities/staged-body.entity.ts';
import { StagedChunkEntity } from './entities/staged-chunk.entity.ts';
import { migrations } from './migrations/index.ts';

export const entities = [ContextEntity, StagedChunkEntity, StagedBodyEntity];

export interface OrmOptions {
  /** postgres:// URL */
  url: string;
  /** pool size per process */
  poolMax?: number;
  debug?: boolean;
}

export async function createOrm({ url, poolMax = 10, debug = false }: OrmOptions): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    debug,
    pool: { min: 0, max: poolMax },
    // the queue's own tables live in schema "bullmq" when BullMQ runs on this database
    schemaGenerator: { ignoreSchema: ['bullmq'] },
    migrations: { migrationsList: migrations, snapshot: false, transactional: true, silent: true },
    allowGlobalContext: false,
  });
}
