import { z } from 'zod';
import { contextItemSchema, contextViewSchema, ROLES } from '@ctxvault/core';

/** What a write answers: stored at once (with the context) or accepted for upload (poll context_status). */
export const writeResultSchema = z.object({
  id: z.string(),
  version: z.number(),
  status: z.enum(['stored', 'pending']),
  job_id: z.string().nullable(),
  context: contextViewSchema.nullable(),
});

export const readResultSchema = contextViewSchema.extend({
  content: z.array(contextItemSchema),
  window: z.object({ returned: z.number(), dropped: z.number(), tokens: z.number() }),
});

export const deleteResultSchema = z.object({ id: z.string(), status: z.literal('deleting'), job_id: z.string().nullable() });

export const listResultSchema = z.object({ items: z.array(contextViewSchema), next_cursor: z.string().nullable() });

export const searchResultSchema = z.object({
  id: z.string(),
  version: z.number(),
  query: z.string(),
  matches: z.array(z.object({ index: z.number(), item: contextItemSchema })),
  truncated: z.boolean(),
});

export const statusResultSchema = z.object({
  id: z.string(),
  version: z.number(),
  status: z.string(),
  last_error: z.string().nullable(),
  job: z.record(z.string(), z.unknown()).nullable(),
});

const roleSummary = z.object({ items: z.number(), tokens: z.number() });

export const summaryResultSchema = z.object({
  id: z.string(),
  version: z.number(),
  status: z.string(),
  message_count: z.number(),
  current_tokens: z.number(),
  max_tokens: z.number().nullable(),
  tokens_over_limit: z.number(),
  roles: z.object(Object.fromEntries(ROLES.map((role) => [role, roleSummary])) as Record<(typeof ROLES)[number], typeof roleSummary>),
  size_bytes: z.number(),
  stored_bytes: z.number().nullable(),
  content_encoding: z.string(),
  compression_ratio: z.number().nullable(),
  first_timestamp: z.string().nullable(),
  last_timestamp: z.string().nullable(),
});
