import { defineEntity, p } from '@mikro-orm/core';

/**
 * The mark of one staged body: claimed when staging starts, completed once every chunk is durable.
 * A body without `completed_at` is never read; the lifecycle pass collects it once abandoned.
 */
export const StagedBodyEntity = defineEntity({
  name: 'StagedBody',
  tableName: 'staged_bodies',
  properties: {
    context_id: p.uuid().primary(),
    version: p.integer().primary(),
    started_at: p.datetime(),
    completed_at: p.datetime().nullable(),
    bytes: p.bigint().nullable(),
    chunks: p.integer().nullable(),
  },
  primaryKeys: ['context_id', 'version'],
});
