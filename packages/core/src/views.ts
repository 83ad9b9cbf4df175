import { CONTEXT_STATUSES, type ContextRow } from '@ctxvault/db';
import { anthropicSystemSchema, FORMATS, type Format } from '@ctxvault/formats';
import { jobViewSchema } from '@ctxvault/queue';
import { z } from 'zod';
import type { DocumentEnvelope } from './document.ts';
import { contextItemSchema } from './schemas.ts';

// What the API answers. The types derive from these schemas, which describe the answers in the
// OpenAPI document.

/** A context as the API shows it, without `content`. */
export const contextViewSchema = z.object({
  id: z.uuid(),
  tenant_id: z.string(),
  agent_id: z.string(),
  model_id: z.string().nullable(),
  session_id: z.string().nullable(),
  name: z.string().nullable(),
  /** the shape of its items: `ctxvault` or a provider's message format */
  format: z.enum(FORMATS),
  /** an `anthropic.messages` context's top-level instructions; null otherwise */
  system: anthropicSystemSchema.nullable(),
  status: z.enum(CONTEXT_STATUSES),
  version: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  max_tokens: z.number().int().nullable(),
  current_tokens: z.number().int(),
  /** false while a worker is still counting some of the items' tokens (current_tokens is then a lower bound) */
  tokens_final: z.boolean(),
  message_count: z.number().int(),
  /** the segments the current version is stored in (appends add one; compaction merges them) */
  segments: z.number().int(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  expires_at: z.iso.datetime().nullable(),
  storage: z.object({
    provider: z.string(),
    key: z.string().nullable(),
    etag: z.string().nullable(),
    size_bytes: z.number().int(),
    stored_bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    content_encoding: z.string(),
    encryption: z.string().nullable(),
    /** the data key its bodies are sealed with (encryption.mode "envelope"); null: stored in the clear */
    data_key_id: z.string().nullable(),
  }),
});
export type ContextView = z.infer<typeof contextViewSchema>;

/** The whole context, as `GET /contexts/{id}` streams it. */
export const contextSchema = contextViewSchema.extend({ content: z.array(contextItemSchema) });

export const contextListSchema = z.object({ items: z.array(contextViewSchema), next_cursor: z.string().nullable() });

/** A write accepted for upload (202). */
export const pendingWriteSchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.literal('pending'),
  job_id: z.string(),
});

export const deletingSchema = z.object({ id: z.uuid(), status: z.literal('deleting'), job_id: z.string().nullable() });

export const statusViewSchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.enum(CONTEXT_STATUSES),
  /** false while a worker is still counting tokens; `stored` does not wait for it */
  tokens_final: z.boolean(),
  last_error: z.string().nullable(),
  job: jobViewSchema.nullable(),
});
export type StatusView = z.infer<typeof statusViewSchema>;

export const searchResultSchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  query: z.string(),
  matches: z.array(z.object({ index: z.number().int(), item: contextItemSchema })),
  truncated: z.boolean(),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

/** What a partial read (`last`, `max_tokens`, `strategy`) returned and left out. */
export const readWindowSchema = z.object({
  returned: z.number().int(),
  dropped: z.number().int(),
  /** of those dropped, the items left out beyond what was asked so the transcript stays valid (a tool call with its results, turns before the first user turn) */
  boundary_dropped: z.number().int(),
  tokens: z.number().int(),
  /** read as anthropic.messages: a user turn was put first, as Anthropic needs one (not counted in returned) */
  inserted_user_turn: z.literal(true).optional(),
});

const roleSummarySchema = z.object({ items: z.number().int(), tokens: z.number().int() });

/** `GET /contexts/{id}/summary`: counts and tokens per role, budget, size and compression. */
export const contextSummarySchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.enum(CONTEXT_STATUSES),
  message_count: z.number().int(),
  current_tokens: z.number().int(),
  tokens_final: z.boolean(),
  max_tokens: z.number().int().nullable(),
  /** tokens over max_tokens (0 when within it or without a limit) */
  tokens_over_limit: z.number().int(),
  roles: z.object({
    system: roleSummarySchema,
    user: roleSummarySchema,
    assistant: roleSummarySchema,
    tool: roleSummarySchema,
  }),
  size_bytes: z.number().int(),
  stored_bytes: z.number().int().nullable(),
  content_encoding: z.string(),
  /** stored bytes / size bytes, null while not stored */
  compression_ratio: z.number().nullable(),
  segments: z.number().int(),
  first_timestamp: z.string().nullable(),
  last_timestamp: z.string().nullable(),
  /**
   * with `estimates=true`: the items whose count holds estimated parts (files, documents, audio,
   * media only referenced or whose header cannot be read, inline base64, encrypted results), each
   * with its tokens and where the estimated parts are in it
   */
  estimated: z
    .object({
      items: z.number().int(),
      tokens: z.number().int(),
      parts: z.array(z.object({ index: z.number().int(), tokens: z.number().int(), paths: z.array(z.string()) })),
    })
    .optional(),
});
export type ContextSummary = z.infer<typeof contextSummarySchema>;

export function toContextView(row: ContextRow): ContextView {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    agent_id: row.agent_id,
    model_id: row.model_id ?? null,
    session_id: row.session_id ?? null,
    name: row.name ?? null,
    format: row.format as Format,
    system: (row.system ?? null) as DocumentEnvelope['system'],
    status: row.status,
    version: row.version,
    metadata: row.metadata ?? {},
    max_tokens: row.max_tokens ?? null,
    current_tokens: row.token_count,
    tokens_final: row.tokens_final,
    message_count: row.message_count,
    segments: row.segment_count,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    expires_at: row.expires_at ? iso(row.expires_at) : null,
    storage: {
      provider: row.storage_provider,
      key: row.storage_key ?? null,
      etag: row.etag ?? null,
      size_bytes: Number(row.size_bytes),
      stored_bytes: row.stored_bytes == null ? null : Number(row.stored_bytes),
      sha256: row.sha256 ?? null,
      content_encoding: row.content_encoding,
      encryption: row.encryption ?? null,
      data_key_id: row.data_key_id ?? null,
    },
  };
}

export function envelopeOf(row: Pick<ContextRow, keyof DocumentEnvelope>): DocumentEnvelope {
  return {
    id: row.id,
    version: row.version,
    tenant_id: row.tenant_id,
    agent_id: row.agent_id,
    model_id: row.model_id ?? null,
    session_id: row.session_id ?? null,
    name: row.name ?? null,
    metadata: row.metadata ?? {},
    max_tokens: row.max_tokens ?? null,
    format: row.format as Format,
    system: (row.system ?? null) as DocumentEnvelope['system'],
    created_at: iso(row.created_at),
    expires_at: row.expires_at ? iso(row.expires_at) : null,
  };
}

function iso(value: Date | string): string {
  return typeof value === 'string' ? new Date(value).toISOString() : value.toISOString();
}
