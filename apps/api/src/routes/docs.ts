import { Hono } from 'hono';
import { DOCS_PAGE } from '../openapi/docs-page.ts';
import { openApiDocument } from '../openapi/document.ts';

/** `/api/v1/openapi.json` (built once) and the interactive reference at `/docs`. */
export function docsRoutes() {
  const document = openApiDocument();
  return new Hono().get('/api/v1/openapi.json', (c) => c.json(document)).get('/docs', (c) => c.html(DOCS_PAGE));
}
