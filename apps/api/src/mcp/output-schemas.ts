import { contextSchema, contextViewSchema, readWindowSchema } from '@ctxvault/core';
import { z } from 'zod';

// The tools answer what the REST calls answer (the status, search, list, delete and summary
// schemas are used as they are); these are the shapes only MCP has.

/** What a write answers: stored at once (with the context) or accepted for upload (poll context_status). */
export const writeResultSchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.enum(['stored', 'pending']),
  job_id: z.string().nullable(),
  context: contextViewSchema.nullable(),
});

/** A context with the items a read kept, and what it left out. */
export const readResultSchema = contextSchema.extend({ window: readWindowSchema });
