import { Readable } from 'node:stream';
import { encodedArchive } from '@ctxvault/core';
import { Hono } from 'hono';
import { z } from 'zod';
import type { ApiEnv, ArchiveDeps } from '../env.ts';
import { describe, failure } from '../openapi/describe.ts';
import { query } from '../openapi/validators.ts';
import { requestBytes } from '../request-body.ts';

const exportQuerySchema = z.strictObject({
  agent_id: z.string().min(1).max(256).optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('only contexts updated at or after this time'),
  versions: z.enum(['current', 'all']).default('current'),
  compress: z.enum(['none', 'zstd']).default('none').describe('zstd: the archive compressed as a whole'),
});

/**
 * `/api/v1/export` and `/api/v1/import`, for admin-scoped credentials: the archive of the
 * caller's tenant (docs/archive-format.md), streamed out and in; an import writes every context
 * into the caller's tenant.
 */
export function archiveRoutes(archive: ArchiveDeps) {
  return new Hono<ApiEnv>()
    .get(
      '/export',
      describe({
        operationId: 'exportArchive',
        tag: 'archive',
        summary: "The archive of the tenant's contexts (NDJSON records, items as stored), streamed",
        responses: { 200: 'application/x-ndjson (or application/zstd)', 400: failure('invalid query') },
      }),
      query(exportQuerySchema),
      (c) => {
        const q = c.req.valid('query');
        const records = archive.exporter.export({
          tenant_id: c.var.tenantId,
          agent_id: q.agent_id,
          since: q.since ? new Date(q.since) : undefined,
          versions: q.versions,
        });
        const zstd = q.compress === 'zstd';
        const body = Readable.toWeb(encodedArchive(records, zstd ? 'zstd' : 'identity')) as ReadableStream;
        return c.body(body, 200, {
          'content-type': zstd ? 'application/zstd' : 'application/x-ndjson',
          'content-disposition': `attachment; filename="ctxvault-${c.var.tenantId}.ndjson${zstd ? '.zst' : ''}"`,
        });
      },
    )
    .post(
      '/import',
      describe({
        operationId: 'importArchive',
        tag: 'archive',
        summary: "Writes an archive's contexts into the tenant; idempotent; conflicts reported, not written",
        responses: {
          200: '{imported, unchanged, conflicts:[{id, reason}], failed:[{id, reason}], segments, items, item_bytes, complete}',
          400: failure('not an archive, or damaged (details: the line, and what was imported before it)'),
        },
      }),
      async (c) => {
        const bytes = requestBytes(c, Number.POSITIVE_INFINITY, 'none');
        return c.json(await archive.importer.import(bytes, { tenantId: c.var.tenantId }));
      },
    );
}
