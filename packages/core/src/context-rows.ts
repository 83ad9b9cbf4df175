import type { ContextRow } from '@ctxvault/db';
import type { DocumentEnvelope } from './document.ts';

/** The columns of a context's row that its envelope sets: what a new version writes of them. */
export function rowFromEnvelope(envelope: DocumentEnvelope) {
  return {
    id: envelope.id,
    tenant_id: envelope.tenant_id,
    agent_id: envelope.agent_id,
    model_id: envelope.model_id,
    session_id: envelope.session_id,
    name: envelope.name,
    metadata: envelope.metadata,
    max_tokens: envelope.max_tokens,
    format: envelope.format,
    system: envelope.system ?? null,
    expires_at: envelope.expires_at ? new Date(envelope.expires_at) : null,
  };
}

/** What a new row takes beside its envelope; the rest is set when its segments are inserted. */
export type NewRowFields = Pick<ContextRow, 'status' | 'data_key_id' | 'updated_at'> &
  Partial<Pick<ContextRow, 'job_id' | 'idempotency_key' | 'idempotency_fingerprint'>>;

/**
 * The row of a context written whole (created, imported or rebuilt), at its envelope's version:
 * its totals and storage columns start empty and are computed from its segments in the
 * transaction that inserts them with it.
 */
export function newContextRow(envelope: DocumentEnvelope, fields: NewRowFields): ContextRow {
  return {
    ...rowFromEnvelope(envelope),
    version: envelope.version,
    storage_provider: 'database',
    storage_key: null,
    etag: null,
    size_bytes: 0,
    stored_bytes: null,
    sha256: null,
    content_encoding: 'identity',
    encryption: null,
    message_count: 0,
    token_count: 0,
    tokens_final: true,
    segment_count: 0,
    last_error: null,
    created_at: new Date(envelope.created_at),
    deleted_at: null,
    job_id: null,
    idempotency_key: null,
    idempotency_fingerprint: null,
    ...fields,
  };
}
