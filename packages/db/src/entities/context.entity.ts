import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const CONTEXT_STATUSES = ['pending', 'stored', 'failed', 'deleting'] as const;
export type ContextStatus = (typeof CONTEXT_STATUSES)[number];

/** Where a context's body lives: inline in its row, or an object in the blob store. */
export const STORAGE_PROVIDERS = ['database', 'local', 's3'] as const;
export type StorageProvider = (typeof STORAGE_PROVIDERS)[number];

/**
 * The reference row of one context. Its items are the segments of its current version (table
 * `versions`); the count, size, token and storage columns summarise them (see segment-repository.ts).
 */
export const ContextEntity = defineEntity({
  name: 'Context',
  tableName: 'contexts',
  properties: {
    id: p.uuid().primary(),
    tenant_id: p.string().length(128).default('default'),
    agent_id: p.string().length(256),
    model_id: p.string().length(256).nullable(),
    session_id: p.string().length(256).nullable(),
    name: p.string().length(512).nullable(),
    status: p.enum(CONTEXT_STATUSES),
    version: p.integer(),
    storage_provider: p.enum(STORAGE_PROVIDERS),
    storage_key: p.text().nullable(),
    etag: p.string().length(128).nullable(),
    size_bytes: p.bigint('number').default(0),
    stored_bytes: p.bigint('number').nullable(),
    sha256: p.string().length(64).nullable(),
    content_encoding: p.string().length(32).default('identity'),
    encryption: p.string().length(32).nullable(),
    /** the data key its bodies are sealed with (envelope encryption); null: stored in the clear */
    data_key_id: p.uuid().nullable(),
    message_count: p.integer().default(0),
    token_count: p.integer().default(0),
    /** false while some segment's tokens are still being counted by a worker */
    tokens_final: p.boolean().default(true),
    /** segments of the current version */
    segment_count: p.integer().default(1),
    max_tokens: p.integer().nullable(),
    metadata: p.json<Record<string, unknown>>(),
    /** the shape of its items: `ctxvault` or a provider's message format (see @ctxvault/formats) */
    format: p.string().length(32).default('ctxvault'),
    /** an `anthropic.messages` context's top-level `system` (a string or text blocks), kept beside its messages */
    system: p.json<unknown>().nullable(),
    job_id: p.string().length(256).nullable(),
    /** the client's Idempotency-Key of the create that made this context */
    idempotency_key: p.string().length(256).nullable(),
    /** SHA-256 of what that create asked for: a reused key with another request is refused */
    idempotency_fingerprint: p.string().length(64).nullable(),
    last_error: p.text().nullable(),
    created_at: p.datetime(),
    updated_at: p.datetime(),
    expires_at: p.datetime().nullable(),
    deleted_at: p.datetime().nullable(),
  },
  indexes: [
    { name: 'contexts_tenant_agent_created_idx', properties: ['tenant_id', 'agent_id', 'created_at'] },
    { name: 'contexts_session_idx', properties: ['tenant_id', 'session_id'] },
    { name: 'contexts_expires_idx', properties: ['expires_at'] },
    { name: 'contexts_metadata_gin_idx', properties: ['metadata'], type: 'gin' },
    { name: 'contexts_tenant_format_created_idx', properties: ['tenant_id', 'format', 'created_at'] },
  ],
  // partial unique index (tenant_id, idempotency_key) where the key is set, and the partial index on
  // the status of pending and deleting rows: see the migrations
});

export type Context = InferEntity<typeof ContextEntity>;
