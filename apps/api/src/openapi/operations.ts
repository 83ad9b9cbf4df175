import type { ComponentName, QueryName } from './document.ts';

/** One call of the HTTP API, as the OpenAPI document describes it; parameters come from the zod schemas. */
export interface Operation {
  id: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** `{name}` segments are path parameters: `id`, `job_id` or `queue` */
  path: `/${string}`;
  tag: 'contexts' | 'jobs' | 'admin' | 'operations';
  summary: string;
  body?: ComponentName;
  query?: QueryName;
  ifMatch?: boolean;
  responses: Record<string, string>;
}

const context = '/api/v1/contexts/{id}';
const adminJob = '/api/v1/admin/queues/{queue}/jobs/{job_id}';

export const operations: readonly Operation[] = [
  {
    id: 'createContext',
    method: 'post',
    path: '/api/v1/contexts',
    tag: 'contexts',
    summary: 'Create a context',
    body: 'CreateContext',
    responses: { 201: 'stored inline: the context', 202: 'staged: {id, version, status:"pending", job_id}, Location of its status', 400: 'invalid body', 413: 'over limits.max_body_bytes' },
  },
  { id: 'listContexts', method: 'get', path: '/api/v1/contexts', tag: 'contexts', summary: 'List contexts, newest first', query: 'list', responses: { 200: '{items, next_cursor}' } },
  { id: 'getContext', method: 'get', path: context, tag: 'contexts', summary: 'Read a whole context with its content', responses: { 200: 'the context', 404: 'no such context' } },
  { id: 'getContextStatus', method: 'get', path: `${context}/status`, tag: 'contexts', summary: 'Status of a context and its job', responses: { 200: '{id, version, status, last_error, job}' } },
  {
    id: 'replaceContext',
    method: 'put',
    path: context,
    tag: 'contexts',
    summary: 'Replace content and metadata: a new version',
    body: 'ReplaceContext',
    ifMatch: true,
    responses: { 200: 'stored inline', 202: 'staged for upload', 409: 'changed meanwhile', 412: 'If-Match is not the current version' },
  },
  {
    id: 'appendItems',
    method: 'post',
    path: `${context}/items`,
    tag: 'contexts',
    summary: 'Append items: a new version',
    body: 'AppendItems',
    ifMatch: true,
    responses: { 200: 'stored inline', 202: 'staged for upload', 412: 'If-Match is not the current version' },
  },
  { id: 'deleteContext', method: 'delete', path: context, tag: 'contexts', summary: 'Delete a context and every version', ifMatch: true, responses: { 202: '{id, status:"deleting", job_id}' } },
  { id: 'searchContext', method: 'post', path: `${context}/search`, tag: 'contexts', summary: 'Items matching a query', body: 'Search', responses: { 200: '{matches, truncated}' } },
  { id: 'getJob', method: 'get', path: '/api/v1/jobs/{job_id}', tag: 'jobs', summary: 'A job: state, progress, attempts, failed reason', responses: { 200: 'the job', 404: 'no such job' } },
  { id: 'queueCounts', method: 'get', path: '/api/v1/admin/queues', tag: 'admin', summary: 'Jobs per state, per queue', responses: { 200: '{queues:{<queue>:{<state>:count}}}', 401: 'admin token missing or wrong' } },
  {
    id: 'listJobs',
    method: 'get',
    path: '/api/v1/admin/queues/{queue}/jobs',
    tag: 'admin',
    summary: 'Jobs of a queue in one state, with their context ids and failed reasons',
    query: 'adminJobs',
    responses: { 200: '{queue, state, jobs}', 401: 'admin token missing or wrong' },
  },
  { id: 'getAdminJob', method: 'get', path: adminJob, tag: 'admin', summary: 'One job with its context id', responses: { 200: 'the job', 404: 'no such job' } },
  { id: 'retryJob', method: 'post', path: `${adminJob}/retry`, tag: 'admin', summary: 'Retry a failed job with all its attempts', responses: { 202: 'the job, waiting again', 404: 'no such job', 409: 'the job is not failed' } },
  { id: 'retryFailedJobs', method: 'post', path: '/api/v1/admin/queues/{queue}/retry-failed', tag: 'admin', summary: 'Retry every failed job of a queue', responses: { 202: '{queue, retried}' } },
  { id: 'removeJob', method: 'delete', path: adminJob, tag: 'admin', summary: 'Remove a job that is not running', responses: { 204: 'removed', 404: 'no such job', 409: 'the job is running' } },
  { id: 'healthz', method: 'get', path: '/healthz', tag: 'operations', summary: 'The process is alive', responses: { 200: '{status:"ok"}' } },
  {
    id: 'readyz',
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'Database, queue backend and blob store are usable',
    responses: { 200: '{status:"ready", checks}', 503: '{status:"unavailable", checks:{<dependency>:{status, code, cause, message}}}' },
  },
  { id: 'metrics', method: 'get', path: '/metrics', tag: 'operations', summary: 'Prometheus metrics', responses: { 200: 'text exposition format' } },
];
