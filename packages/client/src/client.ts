import type {
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
import {
  apiErrorFrom,
  ConnectionError,
  ContextFailedError,
  IncompleteResponseError,
  WaitTimeoutError,
} from './errors.ts';
import { ndjsonLines } from './ndjson.ts';

export interface ClientOptions {
  /** the server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** sent as X-Tenant-Id when there is no apiKey (servers with auth.mode "none"); default "default" */
  tenant?: string;
  /** an API key (or access token), sent as `Authorization: Bearer`; the tenant is then the key's */
  apiKey?: string;
  /** a fetch to use instead of the global one */
  fetch?: typeof fetch;
}

/** A context with its items, as GET /contexts/{id} returns it; `window` only on partial reads. */
export type ContextDocument = ContextView & {
  content: ContextItem[];
  window?: { returned: number; dropped: number; boundary_dropped: number; tokens: number };
};

export interface ListPage {
  items: ContextView[];
  next_cursor: string | null;
}

export interface VersionPage {
  items: VersionView[];
  next_cursor: string | null;
}

/** A fork made once: a retry with the same key answers the first fork's context. */
export interface ForkOptions {
  idempotencyKey?: string;
}

export interface RestoreOptions extends WriteOptions {
  /** a retry with the same key answers the first restore, making no other version */
  idempotencyKey?: string;
}

export interface UploadOptions {
  /** called as request bytes are sent (the server stages them as they arrive) */
  onProgress?: (sentBytes: number) => void;
}

export interface WaitOptions {
  /** called with each status seen while waiting (job progress in bytes while uploading) */
  onProgress?: (status: StatusView) => void;
  /** give up after this many ms (default 5 minutes) with a WaitTimeoutError */
  timeout?: number;
  /** time between polls in ms (default 250) */
  interval?: number;
}

/** Conditional writes: only if `ifVersion` is still the current version (If-Match). */
export interface WriteOptions {
  ifVersion?: number;
}

/** The typed client of the ctxvault REST API (`/api/v1`). Failures throw CtxvaultApiError subclasses. */
export class CtxvaultClient {
  private readonly base: string;
  private readonly tenant: string;
  private readonly apiKey: string | undefined;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.base = `${options.url.replace(/\/+$/, '')}/api/v1`;
    this.tenant = options.tenant ?? 'default';
    this.apiKey = options.apiKey;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Creates a context from a JSON body (up to the server's limits.max_body_bytes). */
  async create(input: CreateContextRequest): Promise<WriteResult> {
    return writeResult(await this.request('POST', '/contexts', { json: input }));
  }

  /** Creates a context by streaming it as NDJSON: any size, never held whole on either side. */
  async upload(
    envelope: Omit<CreateContextRequest, 'content' | 'truncate'>,
    items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
    options: UploadOptions = {},
  ): Promise<WriteResult> {
    return this.uploadStream(ndjsonLines(envelope, items), 'application/x-ndjson', options);
  }

  /** Creates a context from a body already in the wire format (a JSON document or NDJSON), streamed. */
  async uploadStream(
    body: AsyncIterable<Uint8Array>,
    contentType: 'application/json' | 'application/x-ndjson',
    options: UploadOptions = {},
  ): Promise<WriteResult> {
    return writeResult(
      await this.request('POST', '/contexts', { stream: counted(body, options.onProgress), contentType }),
    );
  }

  async get(id: string, options: ReadRequest = {}): Promise<ContextDocument> {
    return this.requestJson<ContextDocument>('GET', `/contexts/${id}${query(options)}`);
  }

  /** The same document as `get`, as the raw JSON bytes the server streams (for large contexts). */
  async download(id: string, options: ReadRequest = {}): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.request('GET', `/contexts/${id}${query(options)}`);
    if (!response.body) throw new Error(`GET /contexts/${id} answered without a body`);
    return response.body;
  }

  async status(id: string): Promise<StatusView> {
    return this.requestJson<StatusView>('GET', `/contexts/${id}/status`);
  }

  async job(jobId: string): Promise<NonNullable<StatusView['job']>> {
    return this.requestJson<NonNullable<StatusView['job']>>('GET', `/jobs/${jobId}`);
  }

  /** With `estimates`, the summary also lists the items whose count holds estimated parts (the server reads the items). */
  async summary(id: string, options: { estimates?: boolean } = {}): Promise<ContextSummary> {
    return this.requestJson<ContextSummary>(
      'GET',
      `/contexts/${id}/summary${options.estimates ? '?estimates=true' : ''}`,
    );
  }

  async replace(id: string, input: ReplaceContextRequest, options: WriteOptions = {}): Promise<WriteResult> {
    return writeResult(await this.request('PUT', `/contexts/${id}`, { json: input, ifVersion: options.ifVersion }));
  }

  async append(id: string, input: AppendItemsRequest, options: WriteOptions = {}): Promise<WriteResult> {
    return writeResult(
      await this.request('POST', `/contexts/${id}/items`, { json: input, ifVersion: options.ifVersion }),
    );
  }

  /** Appends items streamed as NDJSON: any number, never held whole on either side. */
  async appendStream(
    id: string,
    items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
    options: WriteOptions & UploadOptions = {},
  ): Promise<WriteResult> {
    const stream = counted(ndjsonLines(null, items), options.onProgress);
    return writeResult(
      await this.request('POST', `/contexts/${id}/items`, {
        stream,
        contentType: 'application/x-ndjson',
        ifVersion: options.ifVersion,
      }),
    );
  }

  async delete(
    id: string,
    options: WriteOptions = {},
  ): Promise<{ id: string; status: 'deleting'; job_id: string | null }> {
    return this.requestJson<{
      id: string;
      status: 'deleting';
      job_id: string | null;
    }>('DELETE', `/contexts/${id}`, { ifVersion: options.ifVersion });
  }

  /** One page of contexts, newest first; pass `next_cursor` back as `cursor` for the next. */
  async list(filters: ListRequest = {}): Promise<ListPage> {
    return this.requestJson<ListPage>('GET', `/contexts${query(filters)}`);
  }

  /** Every context matching the filters, page after page. */
  async *listAll(filters: Omit<ListRequest, 'cursor'> = {}): AsyncGenerator<ContextView> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...filters, cursor });
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** One page of a context's versions, newest first (kept and collected); pass `next_cursor` back as `cursor`. */
  async versions(id: string, options: VersionsRequest = {}): Promise<VersionPage> {
    return this.requestJson<VersionPage>('GET', `/contexts/${id}/versions${query(options)}`);
  }

  /** Makes kept old `version` current again, as a new version; a collected one throws GoneError. */
  async restore(id: string, version: number, options: RestoreOptions = {}): Promise<WriteResult> {
    return writeResult(
      await this.request('POST', `/contexts/${id}/restore`, {
        json: { version },
        ifVersion: options.ifVersion,
        idempotencyKey: options.idempotencyKey,
      }),
    );
  }

  /** A new context sharing the items of `input.version` (default: the current one) of this one, copy-on-write. */
  async fork(id: string, input: ForkRequest = {}, options: ForkOptions = {}): Promise<ContextView> {
    return this.requestJson<ContextView>('POST', `/contexts/${id}/fork`, {
      json: input,
      idempotencyKey: options.idempotencyKey,
    });
  }

  async search(id: string, input: SearchRequest): Promise<SearchResult> {
    return this.requestJson<SearchResult>('POST', `/contexts/${id}/search`, { json: input });
  }

  /**
   * Polls the status until the context is stored; throws ContextFailedError if its upload failed
   * for good, WaitTimeoutError after `timeout`, NotFoundError if it was deleted meanwhile.
   */
  async waitUntilStored(id: string, options: WaitOptions = {}): Promise<StatusView> {
    const { timeout = 300_000, interval = 250, onProgress } = options;
    const deadline = Date.now() + timeout;
    for (;;) {
      const status = await this.status(id);
      onProgress?.(status);
      if (status.status === 'stored') return status;
      if (status.status === 'failed')
        throw new ContextFailedError(id, status.last_error ?? status.job?.failed_reason ?? null);
      if (Date.now() + interval > deadline) throw new WaitTimeoutError(id, timeout, status.status);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** The JSON of a successful answer; a body cut off on the way is an IncompleteResponseError. */
  private async requestJson<T>(
    method: string,
    path: string,
    body?: { json?: unknown; ifVersion?: number; idempotencyKey?: string },
  ): Promise<T> {
    return readJson<T>(await this.request(method, path, body), `${method} ${path}`);
  }

  private async request(
    method: string,
    path: string,
    body: {
      json?: unknown;
      stream?: AsyncIterable<Uint8Array>;
      contentType?: string;
      ifVersion?: number;
      idempotencyKey?: string;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = this.apiKey
      ? { authorization: `Bearer ${this.apiKey}` }
      : { 'x-tenant-id': this.tenant };
    if (body.ifVersion !== undefined) headers['if-match'] = `"${body.ifVersion}"`;
    if (body.idempotencyKey !== undefined) headers['idempotency-key'] = body.idempotencyKey;
    let payload: RequestInit['body'];
    if (body.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body.stream) {
      headers['content-type'] = body.contentType ?? 'application/octet-stream';
      payload = ReadableStream.from(body.stream);
    }
    const response = await this.fetch(`${this.base}${path}`, {
      method,
      headers,
      body: payload,
      ...(body.stream && { duplex: 'half' }),
    }).catch((err: unknown) => {
      throw new ConnectionError(this.base, err);
    });
    if (!response.ok) throw await apiErrorFrom(response);
    return failingWhenCut(response, `${method} ${path}`);
  }
}

/**
 * The same response, whose body fails with IncompleteResponseError if it breaks off: the server
 * aborts an answer it cannot finish rather than ending it early, so a cut is never a success.
 */
function failingWhenCut(response: Response, call: string): Response {
  if (!response.body) return response;
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const reader = response.body.getReader();
  let received = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          received += value.byteLength;
          controller.enqueue(value);
        } catch (err) {
          controller.error(new IncompleteResponseError(call, received, requestId, err));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

async function writeResult(response: Response): Promise<WriteResult> {
  const body = await readJson<ContextView | { id: string; version: number; status: 'pending'; job_id: string }>(
    response,
    'the write',
  );
  if (response.status === 202) {
    const pending = body as { id: string; version: number; job_id: string };
    return { state: 'pending', id: pending.id, version: pending.version, job_id: pending.job_id };
  }
  return { state: 'stored', context: body as ContextView };
}

/** A JSON body read to its end; the connection lost or the server stopping mid-body is ours to name. */
async function readJson<T>(response: Response, what: string): Promise<T> {
  // a broken-off body fails here already (failingWhenCut); one that ended cleanly but early fails to parse
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    throw new IncompleteResponseError(what, Buffer.byteLength(text), requestId, err);
  }
}

function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function* counted(
  body: AsyncIterable<Uint8Array>,
  onProgress?: (sentBytes: number) => void,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of body) {
    yield chunk;
    sent += chunk.byteLength;
    onProgress?.(sent);
  }
}
