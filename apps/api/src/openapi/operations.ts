import type { QuerySchemaName, RequestSchemaName, ResponseSchemaName } from './components.ts';

/** An answer: its description, and the schema of its body (the REST API's error statuses get its error body). */
export type Answer = string | { description: string; schema: ResponseSchemaName };

/** One call of the HTTP API, as the OpenAPI document describes it; parameters come from the zod schemas. */
export interface Operation {
  id: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** `{name}` segments are path parameters: `id`, `job_id` or `queue` */
  path: `/${string}`;
  tag: 'contexts' | 'jobs' | 'admin' | 'mcp' | 'operations';
  summary: string;
  body?: RequestSchemaName;
  /** also accepts `application/x-ndjson`: the envelope's schema on the first line (if any), then one item a line */
  ndjson?: { envelope?: RequestSchemaName };
  /** takes an `Idempotency-Key` header */
  idempotent?: boolean;
  query?: QuerySchemaName;
  ifMatch?: boolean;
  responses: Record<string, Answer>;
}

const context = '/api/v1/contexts/{id}';
const adminJob = '/api/v1/admin/queues/{queue}/jobs/{job_id}';
const written = {
  stored: { description: 'stored inline: the context', schema: 'ContextView' },
  pending: { description: 'staged for upload; Location is its status', schema: 'PendingWrite' },
} as const;
const unauthorized = 'admin token missing or wrong (with a Basic challenge)';

export const operations: readonly Operation[] = [
  {
    id: 'createContext',
    method: 'post',
    path: '/api/v1/contexts',
    tag: 'contexts',
    summary: 'Create a context',
    body: 'CreateContext',
    ndjson: { envelope: 'CreateEnvelope' },
    idempotent: true,
    responses: {
      201: written.stored,
      202: written.pending,
      400: 'invalid body, naming the failing fields',
      413: 'over limits.max_body_bytes',
      415: 'not application/json',
    },
  },
  {
    id: 'listContexts',
    method: 'get',
    path: '/api/v1/contexts',
    tag: 'contexts',
    summary: 'List contexts, newest first, without bodies',
    query: 'list',
    responses: {
      200: { description: 'a page; next_cursor fetches the next', schema: 'ContextList' },
      400: 'invalid query',
    },
  },
  {
    id: 'getContext',
    method: 'get',
    path: context,
    tag: 'contexts',
    summary: 'Read a context with its content (ETag: its version); last / max_tokens / strategy read a window of it',
    query: 'read',
    responses: {
      200: { description: 'the context', schema: 'Context' },
      304: 'If-None-Match is the current version',
      404: 'no such context',
    },
  },
  {
    id: 'getContextSummary',
    method: 'get',
    path: `${context}/summary`,
    tag: 'contexts',
    summary: 'Counts, tokens per role, size and compression of a context',
    responses: { 200: { description: 'the summary', schema: 'Summary' }, 404: 'no such context' },
  },
  {
    id: 'getContextStatus',
    method: 'get',
    path: `${context}/status`,
    tag: 'contexts',
    summary: 'Status of a context and of its job',
    responses: { 200: { description: 'status, last error and job', schema: 'Status' }, 404: 'no such context' },
  },
  {
    id: 'replaceContext',
    method: 'put',
    path: context,
    tag: 'contexts',
    summary: 'Replace content and metadata: a new version',
    body: 'ReplaceContext',
    ifMatch: true,
    responses: {
      200: written.stored,
      202: written.pending,
      404: 'no such context',
      409: 'changed meanwhile',
      412: 'If-Match is not the current version',
    },
  },
  {
    id: 'appendItems',
    method: 'post',
    path: `${context}/items`,
    tag: 'contexts',
    summary: 'Append items: a new version',
    body: 'AppendItems',
    ndjson: {},
    ifMatch: true,
    responses: {
      200: written.stored,
      202: written.pending,
      404: 'no such context',
      412: 'If-Match is not the current version',
    },
  },
  {
    id: 'deleteContext',
    method: 'delete',
    path: context,
    tag: 'contexts',
    summary: 'Delete a context and every version',
    ifMatch: true,
    responses: {
      202: { description: 'marked; the worker removes objects and row', schema: 'Deleting' },
      404: 'no such context',
      412: 'If-Match is not the current version',
    },
  },
  {
    id: 'searchContext',
    method: 'post',
    path: `${context}/search`,
    tag: 'contexts',
    summary: 'Items matching a query',
    body: 'Search',
    responses: {
      200: { description: 'the matching items with their index', schema: 'SearchResult' },
      404: 'no such context',
    },
  },
  {
    id: 'getJob',
    method: 'get',
    path: '/api/v1/jobs/{job_id}',
    tag: 'jobs',
    summary: 'A job: state, byte progress, attempts, failed reason',
    responses: { 200: { description: 'the job', schema: 'Job' }, 404: 'no such job' },
  },
  {
    id: 'queueCounts',
    method: 'get',
    path: '/api/v1/admin/queues',
    tag: 'admin',
    summary: 'Jobs per state, per queue',
    responses: { 200: { description: 'the counts', schema: 'QueueCounts' }, 401: unauthorized },
  },
  {
    id: 'listJobs',
    method: 'get',
    path: '/api/v1/admin/queues/{queue}/jobs',
    tag: 'admin',
    summary: 'Jobs of a queue in one state, with their context ids and failed reasons',
    query: 'adminJobs',
    responses: {
      200: { description: 'newest first', schema: 'AdminJobList' },
      400: 'unknown queue or state',
      401: unauthorized,
    },
  },
  {
    id: 'getAdminJob',
    method: 'get',
    path: adminJob,
    tag: 'admin',
    summary: 'One job with its context id',
    responses: { 200: { description: 'the job', schema: 'AdminJob' }, 401: unauthorized, 404: 'no such job' },
  },
  {
    id: 'retryJob',
    method: 'post',
    path: `${adminJob}/retry`,
    tag: 'admin',
    summary: 'Retry a failed job with all its attempts',
    responses: {
      202: { description: 'the job, waiting again', schema: 'AdminJob' },
      401: unauthorized,
      404: 'no such job',
      409: 'the job is not failed',
    },
  },
  {
    id: 'retryFailedJobs',
    method: 'post',
    path: '/api/v1/admin/queues/{queue}/retry-failed',
    tag: 'admin',
    summary: 'Retry every failed job of a queue',
    responses: { 202: { description: 'how many were failed', schema: 'Retried' }, 401: unauthorized },
  },
  {
    id: 'removeJob',
    method: 'delete',
    path: adminJob,
    tag: 'admin',
    summary: 'Remove a job that is not running',
    responses: { 204: 'removed', 401: unauthorized, 404: 'no such job', 409: 'the job is running' },
  },
  {
    id: 'mcp',
    method: 'post',
    path: '/mcp',
    tag: 'mcp',
    summary: 'MCP over Streamable HTTP (stateless): JSON-RPC messages for the context tools',
    responses: { 200: 'the JSON-RPC answer', 202: 'a notification was accepted' },
  },
  {
    id: 'mcpStream',
    method: 'get',
    path: '/mcp',
    tag: 'mcp',
    summary: 'No server-to-client stream: the server is stateless',
    responses: { 405: 'POST JSON-RPC messages' },
  },
  {
    id: 'mcpEndSession',
    method: 'delete',
    path: '/mcp',
    tag: 'mcp',
    summary: 'No sessions to end: the server is stateless',
    responses: { 405: 'POST JSON-RPC messages' },
  },
  {
    id: 'cacheStats',
    method: 'get',
    path: '/api/v1/cache',
    tag: 'operations',
    summary: "This API process's body cache: hits (memory, shared), misses, entries, bytes",
    responses: { 200: '{memory_hits, shared_hits, misses, entries, bytes}' },
  },
  {
    id: 'healthz',
    method: 'get',
    path: '/healthz',
    tag: 'operations',
    summary: 'The process is alive',
    responses: { 200: '{status:"ok"}' },
  },
  {
    id: 'readyz',
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'Database, queue backend and blob store are usable',
    responses: {
      200: { description: 'every check ok', schema: 'Readiness' },
      503: { description: 'each failed check with its cause and what to check', schema: 'Readiness' },
    },
  },
  {
    id: 'metrics',
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    responses: { 200: 'text exposition format' },
  },
];
