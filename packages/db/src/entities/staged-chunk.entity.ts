import { defineEntity, p } from '@mikro-orm/core';

/**
 * One chunk of a staged body: the durable copy the API writes before it answers 202, read by
 * workers on any host, removed once the body is in the blob store.
 */
export const StagedChunkEntity = defineEntity({
  name: 'StagedChunk',
  tableName: 'staged_chunks',
  properties: {
    context_id: p.uuid().primary(),
    version: p.integer().primary(),
    seq: p.integer().primary(),
    data: p.blob(),
    created_at: p.datetime(),
  },
  primaryKeys: ['context_id', 'version', 'seq'],
});
