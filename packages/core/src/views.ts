import type { ContextRow } from '@ctxvault/db';
import type { DocumentEnvelope } from './document.ts';

/** A context as the API shows it, without `content`. */
export interface ContextView {
  id: string;
  tenant_id: string;
  agent_id: string;
  model_id: string | null;
  session_id: string | null;
  name: string | null;
  status: string;
  version: number;
  metadata: Record<string, unknown>;
  max_tokens: number | null;
  current_tokens: number;
  message_count: number;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  storage: {
    provider: string;
    key: string | null;
    etag: string | null;
    size_bytes: number;
    stored_bytes: number | null;
    sha256: string | null;
    content_encoding: string;
    encryption: string | null;
  };
}

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
