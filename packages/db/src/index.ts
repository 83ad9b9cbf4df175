export { createOrm, entities, type OrmOptions } from './orm.ts';
export { migrate } from './migrate.ts';
export { ContextRepository, type ContextRow, type NewContextRow, type ContextPatch, type ListFilters } from './context-repository.ts';
export { StagingRepository, rechunk } from './staging-repository.ts';
export {
  ContextEntity,
  CONTEXT_STATUSES,
  STORAGE_PROVIDERS,
  type Context,
  type ContextStatus,
  type StorageProvider,
} from './entities/context.entity.ts';
export { newContextId } from './ids.ts';
export type { MikroORM } from '@mikro-orm/postgresql';
