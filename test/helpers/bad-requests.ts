// fast-check arbitraries for requests to /api/v1 that are wrong by construction: each carries at
// least one fault the API must refuse with a 4xx, whatever else was generated around it. The API's
// own schemas (from @ctxvault/core) serve as the oracle that a generated body or query is invalid.

import {
  appendItemsSchema,
  createContextSchema,
  listQuerySchema,
  replaceContextSchema,
  searchSchema,
} from '@ctxvault/core';
import fc from 'fast-check';

/** What the oracle needs of a zod schema. */
interface Schema {
  safeParse(value: unknown): { success: boolean };
}

export interface BadRequest {
  method: string;
  /** path and query, already encoded */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLES = ['system', 'user', 'assistant', 'tool'];

/** The routes that take a context id, with a body they would accept for a real context. */
export const ID_ROUTES = [
  { method: 'GET', suffix: '' },
  { method: 'GET', suffix: '/status' },
  { method: 'PUT', suffix: '', kind: 'replace', body: { content: [{ role: 'user', content: 'replaced' }] } },
  { method: 'POST', suffix: '/items', kind: 'append', body: { items: [{ role: 'assistant', content: 'appended' }] } },
  { method: 'DELETE', suffix: '' },
  { method: 'POST', suffix: '/search', kind: 'search', body: { query: 'hello' } },
] as const;

type BodyKind = 'create' | 'replace' | 'append' | 'search';

const SCHEMAS: Record<BodyKind, Schema> = {
  create: createContextSchema,
  replace: replaceContextSchema,
  append: appendItemsSchema,
  search: searchSchema,
};

/** A route that reads a JSON body, with a body it would accept. */
export interface BodyRoute {
  kind: BodyKind;
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** Every route that reads a JSON body. */
export function bodyRoutes(existingId: string): BodyRoute[] {
  return [
    {
      kind: 'create',
      method: 'POST',
      path: '/api/v1/contexts',
      body: { agent_id: 'agent', content: [{ role: 'user', content: 'hi' }] },
    },
    ...ID_ROUTES.filter((route) => 'kind' in route).map((route) => ({
      kind: route.kind,
      method: route.method,
      path: `/api/v1/contexts/${existingId}${route.suffix}`,
      body: route.body,
    })),
  ];
}

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 60,
});

/** A path segment that is not a UUID: unicode, ASCII junk, broken percent-encodings, long strings. */
export const notAnId: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    printable.filter((s) => s.length > 0).map(encodeURIComponent),
    fc.webSegment().filter((s) => s.length > 0),
    fc.tuple(fc.uuid(), printable).map(([id, tail]) => encodeURIComponent(`${id}${tail || '0'}`)),
    fc.uuid().map((id) => id.replaceAll('-', '')),
    fc.constantFrom(
      '%',
      '%zz',
      '%E0%A4%A',
      '%C0%AF',
      '%ED%A0%80',
      '%00',
      '%2F..%2Fetc%2Fpasswd',
      'null',
      'undefined',
      '-1',
      '0',
      '1e309',
      'NaN',
      '%20',
      '~',
      '$',
      "'%20OR%201=1--",
    ),
    fc.integer({ min: 300, max: 8_000 }).map((n) => 'a'.repeat(n)),
  )
  // a "." or ".." segment is removed by URL normalization before the request is sent
  .filter((segment) => !/^(?:\.|%2e){1,2}$/i.test(segment) && !UUID.test(safeDecode(segment)));

/** A value the X-Tenant-Id header refuses (fetch itself refuses CR, LF and NUL). */
export const badTenant: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((code) => code !== 0x7f)
        .map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 60,
    }),
    fc.integer({ min: 129, max: 2_000 }).map((n) => 't'.repeat(n)),
  )
  .map((value) => value.trim())
  .filter((value) => value !== '' && !/^[A-Za-z0-9._-]{1,128}$/.test(value));

/** An If-Match the API cannot read as a version (and not "*", which asks for none). */
export const badIfMatch: fc.Arbitrary<string> = printable
  .map((value) => value.trim())
  .filter((value) => value !== '' && value !== '*' && !/^(?:W\/)?"?\d{1,9}"?$/.test(value));

/** A well-formed If-Match naming another version than `current`. */
export function staleIfMatch(current: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: 0, max: 999_999_999 }).filter((v) => v !== current),
      fc.constantFrom('"N"', 'W/"N"', 'N'),
    )
    .map(([version, form]) => form.replace('N', String(version)));
}

/** Invalid UTF-8: stray continuation bytes, overlong forms, surrogates, truncated sequences. */
const BAD_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x28, 0x8c, 0x28],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** A body that is not a JSON document the route accepts, in one of many ways. */
export function malformedBody(route: BodyRoute): fc.Arbitrary<string | Uint8Array> {
  const valid = JSON.stringify(route.body);
  const invalidJson = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2_000 }),
    fc.integer({ min: 1, max: valid.length - 1 }).map((cut) => valid.slice(0, cut)),
    fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '"',
      '{"a":',
      '{"agent_id":"a",}',
      "{'agent_id':'a'}",
      '{"a":1}{"b":2}',
      'NaN',
      '\u0000',
      '\ufeff{}',
    ),
    fc.json({ maxDepth: 4 }),
    fc.integer({ min: 1, max: 5_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc.constantFrom(...BAD_UTF8).map((bytes) => {
      // inside the first string after the first key, where a lenient decoder would keep going
      const at = valid.indexOf('"', valid.indexOf(':')) + 1;
      return Buffer.concat([Buffer.from(valid.slice(0, at)), Buffer.from(bytes), Buffer.from(valid.slice(at))]);
    }),
  );
  return fc
    .oneof(
      invalidJson,
      mutatedBody(route.body).map((value) => JSON.stringify(value)),
    )
    .filter((body) => !acceptedBy(SCHEMAS[route.kind], body));
}

/** A valid body with one field broken: missing, of another type, out of range, oversize or unknown. */
function mutatedBody(body: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(body);
  const junk = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string({ maxLength: 20 }),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  );
  const badItem = fc.oneof(
    fc.record({ role: printable.filter((r) => !ROLES.includes(r)), content: fc.string() }),
    fc.record({ role: fc.constantFrom(...ROLES), content: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()) }),
    fc.record({
      role: fc.constantFrom(...ROLES),
      content: fc.string(),
      tokens: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.string()),
    }),
    fc.record({ role: fc.constantFrom(...ROLES), content: fc.string(), timestamp: printable }),
    fc.record({ role: fc.constantFrom(...ROLES), content: fc.string(), extra: fc.string() }),
    junk,
  );
  const oversize = (min: number) => fc.integer({ min, max: min * 3 }).map((n) => 'x'.repeat(n));
  return fc.oneof(
    fc.constantFrom(...keys).map((key) => omit(body, key)),
    fc.tuple(fc.constantFrom(...keys), junk).map(([key, value]) => ({ ...body, [key]: value })),
    fc
      .tuple(
        printable.filter((key) => key !== '' && !(key in body)),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([key, value]) => ({ ...body, [key]: value })),
    fc
      .record(
        {
          agent_id: fc.oneof(fc.constant(''), oversize(257)),
          name: fc.oneof(fc.constant(''), oversize(513)),
          query: fc.oneof(fc.constant(''), oversize(10_001)),
          max_tokens: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true })),
          expires_at: printable,
          limit: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1_001 })),
          roles: fc.array(
            printable.filter((r) => !ROLES.includes(r)),
            { minLength: 1, maxLength: 3 },
          ),
          metadata: fc.oneof(fc.array(fc.integer()), fc.string(), fc.integer()),
        },
        { requiredKeys: [] },
      )
      .filter((fields) => Object.keys(fields).length > 0)
      .map((fields) => ({ ...body, ...fields })),
    fc
      .array(badItem, { minLength: 1, maxLength: 3 })
      .map((items) => ({ ...body, ...('items' in body ? { items } : { content: items }) })),
    fc.constant({ ...body, ...('items' in body ? { items: [] } : {}) }),
    junk,
  );
}

/** Text with a character PostgreSQL cannot store (NUL) or that is not Unicode (a lone surrogate). */
const unstorableText = fc
  .tuple(printable, fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00\ud800'), printable)
  .map(([before, bad, after]) => `${before}${bad}${after}`);

/** JSON nested deeper than anyone's metadata: objects or arrays, 65 to 3000 levels. */
const deeplyNested = fc.tuple(fc.integer({ min: 65, max: 3_000 }), fc.boolean()).map(([depth, arrays]) => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = arrays ? [value] : { a: value };
  return value;
});

/**
 * A body the route's schema accepts that the database still cannot hold, refused by the API
 * before anything is written: NUL or a lone surrogate in an identifier, a metadata key or value or
 * the search query, or metadata or content parts nested too deep.
 */
export function unstorableBody(route: BodyRoute): fc.Arbitrary<string> {
  const { body } = route;
  if (route.kind === 'search') return unstorableText.map((query) => JSON.stringify({ ...body, query }));
  const metadata = fc.oneof(
    unstorableText.map((value) => ({ key: value })),
    unstorableText.map((key) => ({ [key]: 1 })),
    deeplyNested.map((deep) => ({ deep })),
  );
  const faults: fc.Arbitrary<unknown>[] = [
    metadata.map((m) => withItems(body, [{ role: 'user', content: 'x', metadata: m }])),
    deeplyNested.map((deep) => withItems(body, [{ role: 'tool', content: [{ type: 'tool_result', deep }] }])),
  ];
  if (route.kind !== 'append') {
    faults.push(
      metadata.map((m) => ({ ...body, metadata: m })),
      fc
        .tuple(
          fc.constantFrom('model_id', 'name', ...(route.kind === 'create' ? ['agent_id', 'session_id'] : [])),
          unstorableText,
        )
        .map(([field, text]) => ({ ...body, [field]: text })),
    );
  }
  return fc.oneof(...faults).map((value) => JSON.stringify(value));
}

/**
 * A body the route's schema accepts with a value PostgreSQL's column refuses: a count beyond its
 * integer (one item's tokens, or their sum) or a date in year 0. Search takes none of these.
 */
export function outOfRangeBody(route: BodyRoute): fc.Arbitrary<string> {
  const { body } = route;
  const faults: fc.Arbitrary<unknown>[] = [
    fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((tokens) =>
      withItems(body, [
        { role: 'user', content: 'x', tokens: 2 ** 31 - 1 },
        { role: 'user', content: 'y', tokens },
      ]),
    ),
  ];
  if (route.kind === 'create' || route.kind === 'replace') {
    faults.push(
      fc
        .integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER })
        .map((maxTokens) => ({ ...body, max_tokens: maxTokens })),
      fc
        .constantFrom('0000-01-01T00:00:00Z', '0000-12-31T23:59:59.999+00:00')
        .map((date) => ({ ...body, expires_at: date })),
    );
  }
  return fc.oneof(...faults).map((value) => JSON.stringify(value));
}

function withItems(body: Record<string, unknown>, items: unknown[]): Record<string, unknown> {
  return 'items' in body ? { ...body, items } : { ...body, content: items };
}

/** A list query with at least one parameter the list refuses, among others that may be fine. */
export const badListQuery: fc.Arbitrary<string> = fc
  .tuple(
    fc.dictionary(
      // "__proto__" cannot be a key of the parsed query object, so it would vanish rather than be refused
      fc.oneof(
        fc.constantFrom(
          'agent_id',
          'session_id',
          'model_id',
          'status',
          'created_after',
          'created_before',
          'limit',
          'cursor',
        ),
        printable.filter((k) => k !== '' && k !== '__proto__'),
      ),
      fc.oneof(
        printable,
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.integer().map(String),
        fc.integer({ min: 200, max: 3_000 }).map((n) => 'q'.repeat(n)),
      ),
      { maxKeys: 5 },
    ),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', ''),
  )
  .filter(([params]) => !listQuerySchema.safeParse(params).success)
  .map(([params, brokenEscape]) => {
    const pairs = Object.entries(params).map(
      ([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
    );
    // a broken escape rides on a parameter of its own, so it cannot make a bad value good
    if (brokenEscape && pairs.length > 0) pairs.push(`noise${brokenEscape}=${brokenEscape}`);
    return pairs.join('&');
  })
  .filter((query) => query !== '');

/** A list filter the schema accepts but the database cannot compare: text with NUL in it. */
export const unstorableListQuery: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('agent_id', 'session_id', 'model_id'), printable, printable)
  .map(([key, before, after]) => `${key}=${encodeURIComponent(`${before}\u0000${after}`)}`);

/** Content types other than application/json and application/x-ndjson. */
export const wrongContentType: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'text/plain',
    'application/ndjson',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/jsonx',
    'application/json-patch+json',
    'json',
    '*/*',
    'application/xml',
  ),
  fc
    .tuple(fc.webSegment(), fc.webSegment())
    .map(([type, sub]) => `${type || 'x'}/${sub || 'y'}`)
    .filter((type) => !/^application\/(json|x-ndjson)\s*(;|$)/i.test(type)),
);

/** Content codings the API does not decode (it speaks gzip and zstd), including stacked ones. */
export const contentEncoding: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('deflate', 'br', 'compress', 'gzip, deflate', 'zstd, gzip'),
  fc.webSegment().filter((coding) => !['', 'identity', 'gzip', 'x-gzip', 'zstd'].includes(coding.trim().toLowerCase())),
);

/** Broken NDJSON: an envelope line followed by lines that are not items. */
export const brokenNdjson: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc
    .array(fc.oneof(fc.json({ maxDepth: 2 }), printable, fc.constant('{"role":"user","content":'), fc.constant('')), {
      minLength: 1,
      maxLength: 6,
    })
    // at least one line that is there and not an item (blank lines alone make a valid, empty create)
    .filter((lines) => lines.some((line) => line.trim() !== ''))
    .map((lines) => `{"agent_id":"a"}\n${lines.join('\n')}`),
  fc.uint8Array({ minLength: 1, maxLength: 500 }),
  fc.constant(Buffer.from([0x7b, 0x7d, 0x0a, 0xff, 0xfe, 0x0a])),
);

/** Paths under /api/v1 that name no route, and real paths with a method they do not take. */
export function unknownRoute(existingId: string): fc.Arbitrary<{ method: string; path: string }> {
  return fc.oneof(
    fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.array(
          fc.webSegment().filter((s) => s !== '' && !/^(?:\.|%2e){1,2}$/i.test(s)),
          { minLength: 1, maxLength: 4 },
        ),
      )
      .filter(([, segments]) => segments[0] !== 'contexts' && segments[0] !== 'jobs')
      .map(([method, segments]) => ({ method, path: `/api/v1/${segments.join('/')}` })),
    fc.constantFrom(
      { method: 'PATCH', path: `/api/v1/contexts/${existingId}` },
      { method: 'PUT', path: '/api/v1/contexts' },
      { method: 'DELETE', path: '/api/v1/contexts' },
      { method: 'GET', path: `/api/v1/contexts/${existingId}/items` },
      { method: 'GET', path: `/api/v1/contexts/${existingId}/search` },
      { method: 'POST', path: '/api/v1/jobs/anything' },
      { method: 'PURGE', path: `/api/v1/contexts/${existingId}` },
      { method: 'GET', path: `/api/v1/contexts/${existingId}/status/extra` },
      { method: 'GET', path: '/api/v2/contexts' },
    ),
  );
}

/** Whether `body` parses as JSON the schema accepts, i.e. is not bad input after all. */
function acceptedBy(schema: Schema, body: string | Uint8Array): boolean {
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    return schema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

function omit(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = body;
  return rest;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
