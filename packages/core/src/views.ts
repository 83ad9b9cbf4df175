import { z } from 'zod';
import type { ContextRow } from '@ctxvault/db';
import type { DocumentEnvelope } from './document.ts';

/** A context as the API shows it, without `content`. Also the output schema of the MCP tools. */
export const contextViewSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  agent_id: z.string(),
  model_id: z.string().nullable(),
  session_id: z.string().nullable(),
  name: z.string().nullable(),
  status: z.string(),
  version: z.number(),
  metadata: z.record(z.string(), z.unknown()),
  max_tokens: z.number().nullable(),
  current_tokens: z.number(),
  message_count: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string().nullable(),
  storage: z.object({
    provider: z.string(),
    key: z.string().nullable(),
    etag: z.string().nullable(),
    size_bytes: z.number(),
    stored_bytes: z.number().nullable(),
    sha256: z.string().nullable(),
    content_encoding: z.string(),
    encryption: z.string().nullable(),
  }),
});
export type ContextView = z.infer<typeof contextViewSchema>;

export function toContextView(row: ContextRow): ContextView {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    agent_id: row.agent_id,
    model_id: row.model_id ?? null,
    session_id: row.session_id ?? null,
    name: row.name ?? null,
    status: row.status,
    version: row.version,
    metadata: row.metadata ?? {},
    max_tokens: row.max_tokens ?? null,
    current_tokens: row.token_count,
    message_count: row.message_count,
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
    created_at: iso(row.created_at),
    expires_at: row.expires_at ? iso(row.expires_at) : null,
  };
}

function iso(value: Date | string): string {
  return typeof value === 'string' ? new Date(value).toISOString() : value.toISOString();
}
