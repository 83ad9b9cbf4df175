export type {
  AppendItemsRequest,
  ContextItem,
  ContextSummary,
  ContextView,
  CreateContextRequest,
  ForkRequest,
  ListRequest,
  ReadRequest,
  ReplaceContextRequest,
  SearchRequest,
  SearchResult,
  StatusView,
  VersionsRequest,
  VersionView,
  WriteResult,
} from '@ctxvault/core';
export {
  type ClientOptions,
  type ContextDocument,
  CtxvaultClient,
  type ForkOptions,
  type ListPage,
  type RestoreOptions,
  type UploadOptions,
  type VersionPage,
  type WaitOptions,
  type WriteOptions,
} from './client.ts';
export {
  ConflictError,
  ConnectionError,
  ContextFailedError,
  CtxvaultApiError,
  GoneError,
  IncompleteResponseError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  WaitTimeoutError,
} from './errors.ts';
export { ndjsonLines } from './ndjson.ts';
export { SessionContext, type SessionContextOptions } from './session-context.ts';
