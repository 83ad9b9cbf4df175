import { CONTEXT_STATUSES } from '@ctxvault/db';
import {
  anthropicSystemSchema,
  CTXVAULT_ROLES,
  FORMATS,
  type Format,
  type FormatItem,
  TARGET_FORMATS,
  TRUNCATION_STRATEGIES,
  type TruncationStrategy,
  validItemSchema,
} from '@ctxvault/formats';
import { ALL_QUEUES, JOB_STATES } from '@ctxvault/queue';
import { z } from 'zod';
import { ValidationError } from './errors/index.ts';

export const ROLES = CTXVAULT_ROLES;

/** How a read fits a token budget; `planWindow` (@ctxvault/formats) carries them out. */
export { TRUNCATION_STRATEGIES, type TruncationStrategy };

const identifier = (max: number) => z.string().min(1).max(max);
const metadataSchema = z.record(z.string(), z.unknown());

/**
 * One item of a context, in the context's `format`, as sent: an object the format's own schema
 * validates (`validItemSchema`); nothing is stripped or added.
 */
export const contextItemSchema = z
  .record(z.string(), z.unknown())
  .describe("an item of the context's format: a ctxvault item, or a provider's message as its SDK types it");
export type ContextItem = FormatItem;

/** The shape of a context's items; fixed at create. */
const formatSchema = z.enum(FORMATS).default('ctxvault');
/** Reading a context in another format (`?as=`). */
export const targetFormatSchema = z.enum(TARGET_FORMATS);

/** The issues of `items` (at `key`) against `format`'s item schema, at `key.<index>.<path>`. */
export function itemIssuesOf(
  format: Format,
  items: readonly unknown[],
  key: 'content' | 'items',
): { path: PropertyKey[]; message: string }[] {
  const schema = validItemSchema(format);
  return items.flatMap((item, index) => {
    const result = schema.safeParse(item);
    return result.success
      ? []
      : result.error.issues.map((issue) => ({ path: [key, index, ...issue.path], message: issue.message }));
  });
}

/**
 * 400 naming every failing field when an array of items does not follow `format` (appends and
 * replaces are checked against their context's format; streamed items are checked as they arrive).
 */
export function assertItemsOfFormat(format: Format, items: RawItems, key: 'content' | 'items'): void {
  if (!Array.isArray(items)) return;
  const details = itemIssuesOf(
    format,
    items.map((raw: RawItem) => raw.item),
    key,
  ).map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
  if (details.length === 0) return;
  throw new ValidationError(
    `invalid ${format} items: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
    details,
  );
}

function hasFormatAndContent(value: unknown): boolean {
  const { format, content } = (value ?? {}) as { format?: unknown; content?: unknown };
  return (FORMATS as readonly unknown[]).includes(format) && Array.isArray(content);
}

function itemsOfFormat(key: 'content') {
  return (value: { format: Format; content: unknown[] }, ctx: z.RefinementCtx) => {
    for (const issue of itemIssuesOf(value.format, value[key], key)) ctx.addIssue({ code: 'custom', ...issue });
  };
}
const systemOnlyForAnthropic = (value: { format: string; system?: unknown }) =>
  value.system === undefined || value.format === 'anthropic.messages';
const systemOnlyForAnthropicError = { message: 'system is only for format anthropic.messages', path: ['system'] };

/**
 * An item as it is stored: its JSON text exactly as the client sent it (an NDJSON line, or the
 * item's own slice of a JSON body), with the parsed and validated value beside it (raw-items.ts).
 */
export interface RawItem {
  item: ContextItem;
  text: string;
}

export type RawItems = Iterable<RawItem> | AsyncIterable<RawItem>;

/** On a write: drop items (by this strategy) until the version fits the context's `max_tokens`. */
const truncateSchema = z.enum(TRUNCATION_STRATEGIES).optional();

const TEN_YEARS_S = 10 * 365 * 24 * 3600;
/** Expiry is given as a moment (`expires_at`) or a lifetime from now (`ttl_seconds`), not both. */
const expiry = {
  // what PostgreSQL's timestamptz holds without era notation: years 0001 to 9999
  expires_at: z.iso
    .datetime({ offset: true })
    .refine((value) => {
      const year = new Date(value).getUTCFullYear();
      return year >= 1 && year <= 9999;
    }, 'a date is out of range (years 0001 to 9999)')
    .optional(),
  ttl_seconds: z.number().int().positive().max(TEN_YEARS_S).optional(),
};
const oneExpiry = (value: { expires_at?: string; ttl_seconds?: number }) => !(value.expires_at && value.ttl_seconds);
const oneExpiryError = { message: 'give expires_at or ttl_seconds, not both', path: ['ttl_seconds'] };

const envelopeFields = {
  agent_id: identifier(256),
  format: formatSchema,
  /** `anthropic.messages`: the top-level instructions, kept beside the messages */
  system: anthropicSystemSchema.optional(),
  model_id: identifier(256).optional(),
  session_id: identifier(256).optional(),
  name: identifier(512).optional(),
  metadata: metadataSchema.default({}),
  max_tokens: z.number().int().positive().optional(),
  ...expiry,
};

export const createContextSchema = z
  .strictObject({ ...envelopeFields, content: z.array(contextItemSchema).default([]), truncate: truncateSchema })
  .refine(oneExpiry, oneExpiryError)
  .refine(systemOnlyForAnthropic, systemOnlyForAnthropicError)
  // runs even when other fields failed, so one answer names every failing item too
  .superRefine(itemsOfFormat('content'), { when: ({ value }) => hasFormatAndContent(value) });
export type CreateContextInput = z.infer<typeof createContextSchema>;

/** The first line of an NDJSON create: everything but `content`, whose items follow one a line. */
export const createEnvelopeSchema = z
  .strictObject(envelopeFields)
  .refine(oneExpiry, oneExpiryError)
  .refine(systemOnlyForAnthropic, systemOnlyForAnthropicError);

/** A create whose items may still be arriving (NDJSON streams them while they are staged), each with its text as sent. */
export type CreateContextStream = z.infer<typeof createEnvelopeSchema> & {
  content: RawItems;
  /** only with an array `content`: truncating reads the items twice */
  truncate?: TruncationStrategy;
};

/** A replace keeps the context's identity (agent, session) and swaps content and metadata. */
export const replaceContextSchema = z
  .strictObject({
    model_id: identifier(256).optional(),
    name: identifier(512).optional(),
    content: z.array(contextItemSchema),
    /** `anthropic.messages`: new top-level instructions */
    system: anthropicSystemSchema.optional(),
    metadata: metadataSchema.optional(),
    max_tokens: z.number().int().positive().optional(),
    ...expiry,
    truncate: truncateSchema,
  })
  .refine(oneExpiry, oneExpiryError);
/** A replace as the service takes it: the items with their text as sent. */
export type ReplaceContextInput = Omit<z.infer<typeof replaceContextSchema>, 'content'> & { content: RawItems };

export const appendItemsSchema = z.strictObject({
  items: z.array(contextItemSchema).min(1),
  truncate: truncateSchema,
});
export type AppendItemsInput = {
  items: RawItems;
  /** only with an array of items: truncating reads the items twice */
  truncate?: TruncationStrategy;
};

/** Version numbers are PostgreSQL ints. */
const MAX_VERSION = 2_147_483_647;
const versionNumber = z.number().int().min(1).max(MAX_VERSION);
const pageCursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/)
  .optional();

/** `GET /contexts/{id}/versions`: newest first, keyset-paged like the list. */
export const versionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: pageCursor,
});
export type VersionsQuery = z.infer<typeof versionsQuerySchema>;

/** `POST /contexts/{id}/restore`: the kept version to make current again, as a new version. */
export const restoreSchema = z.strictObject({ version: versionNumber });

/**
 * `POST /contexts/{id}/fork`: a new context sharing the source's segments up to `version` (the
 * current one when left out); agent, session, name, metadata and expiry may differ from the source's.
 */
export const forkSchema = z
  .strictObject({
    version: versionNumber.optional(),
    agent_id: identifier(256).optional(),
    session_id: identifier(256).optional(),
    name: identifier(512).optional(),
    metadata: metadataSchema.optional(),
    ...expiry,
  })
  .refine(oneExpiry, oneExpiryError);
export type ForkInput = z.infer<typeof forkSchema>;

export const listQuerySchema = z.strictObject({
  agent_id: identifier(256).optional(),
  session_id: identifier(256).optional(),
  model_id: identifier(256).optional(),
  format: z.enum(FORMATS).optional(),
  status: z.enum(CONTEXT_STATUSES).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: pageCursor,
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const searchSchema = z.strictObject({
  query: z.string().min(1).max(10_000),
  roles: z.array(z.enum(ROLES)).optional(),
  case_sensitive: z.boolean().default(false),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type SearchInput = z.infer<typeof searchSchema>;

/**
 * A partial read: only the `last` N items, and/or only what fits in `max_tokens` (dropped by
 * `strategy`, default `oldest_first`). A `strategy` without `max_tokens` uses the context's own.
 */
export const readOptionsSchema = z.strictObject({
  last: z.coerce.number().int().min(1).optional(),
  max_tokens: z.coerce.number().int().positive().optional(),
  strategy: z.enum(TRUNCATION_STRATEGIES).optional(),
  /** the items converted to another provider's format (the common subset; 422 naming the first part that has no form there) */
  as: targetFormatSchema.optional(),
  /** an old version, while the lifecycle keeps it (410 once collected) */
  version: z.coerce.number().int().min(1).max(MAX_VERSION).optional(),
});
export type ReadOptions = z.infer<typeof readOptionsSchema>;

/** `GET /contexts/{id}/summary`: `estimates=true` also says which items hold estimated parts (reads the items). */
export const summaryQuerySchema = z.strictObject({
  estimates: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export const contextIdSchema = z.uuid();

/** An `Idempotency-Key` header: any printable ASCII, as Stripe-style APIs accept. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,256}$/, 'must be 1-256 printable ASCII characters');

/** The moment a write's expiry asks for, if any. */
export function expiryOf(input: { expires_at?: string; ttl_seconds?: number }, now: Date): string | undefined {
  if (input.ttl_seconds !== undefined) return new Date(now.getTime() + input.ttl_seconds * 1000).toISOString();
  return input.expires_at;
}

/** A job id: derived from the business key (`upload-<id>-v<n>`, `delete-<id>`). */
export const jobIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'not a job id');

export const queueNameSchema = z.enum(ALL_QUEUES);

export const adminJobsQuerySchema = z.strictObject({
  state: z.enum(JOB_STATES).default('failed'),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type AdminJobsQuery = z.infer<typeof adminJobsQuerySchema>;
/** What a client sends (before defaults are filled in). */
export type CreateContextRequest = z.input<typeof createContextSchema>;
export type ReplaceContextRequest = z.input<typeof replaceContextSchema>;
export type AppendItemsRequest = z.input<typeof appendItemsSchema>;
export type ListRequest = z.input<typeof listQuerySchema>;
export type SearchRequest = z.input<typeof searchSchema>;
export type ReadRequest = z.input<typeof readOptionsSchema>;
export type VersionsRequest = z.input<typeof versionsQuerySchema>;
export type ForkRequest = z.input<typeof forkSchema>;
