export { CtxvaultClient, type ClientOptions, type ContextDocument, type ListPage, type UploadOptions, type WaitOptions, type WriteOptions } from './client.ts';
export {
  CtxvaultApiError,
  InvalidRequestError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  ConnectionError,
  ContextFailedError,
  WaitTimeoutError,
} from './errors.ts';
export { ndjsonLines } from './ndjson.ts';
export type {
  ContextItem,
  ContextView,
  ContextSummary,
  CreateContextRequest,
  ReplaceContextRequest,
  AppendItemsRequest,
  ListRequest,
  SearchRequest,
  ReadRequest,
  SearchResult,
  StatusView,
  WriteResult,
} from '@ctxvault/core';
