export type {
  AppendItemsRequest,
  ContextItem,
  ContextSummary,
  ContextView,
  CreateContextRequest,
  ListRequest,
  ReadRequest,
  ReplaceContextRequest,
  SearchRequest,
  SearchResult,
  StatusView,
  WriteResult,
} from '@ctxvault/core';
export {
  type ClientOptions,
  type ContextDocument,
  CtxvaultClient,
  type ListPage,
  type UploadOptions,
  type WaitOptions,
  type WriteOptions,
} from './client.ts';
export {
  ConflictError,
  ConnectionError,
  ContextFailedError,
  CtxvaultApiError,
  IncompleteResponseError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  WaitTimeoutError,
} from './errors.ts';
export { ndjsonLines } from './ndjson.ts';
