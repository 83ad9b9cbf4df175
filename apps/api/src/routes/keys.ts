import { type ApiKeys, NotFoundError, ValidationError } from '@ctxvault/core';
import { API_KEY_SCOPES } from '@ctxvault/db';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import type { ApiEnv } from '../env.ts';
import { jsonBody } from '../openapi/bodies.ts';
import { describe, failure, type Operation } from '../openapi/describe.ts';
import { params, query } from '../openapi/validators.ts';

const tenantSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" or "-", at most 128');

const newKeySchema = z.strictObject({
  tenant_id: tenantSchema.optional().describe('only on the admin API: the tenant the key speaks for'),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).describe('read, write (includes read), admin (includes both)'),
  name: z.string().max(256).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('after this the key is refused'),
});

const keyRef = z.object({ id: z.string().min(1).max(64).describe('the key id or its prefix') });

/**
 * API keys. `scopeTenant` says which tenant a request manages: its own (`/api/v1/keys`, with an
 * admin-scoped credential) or any (`/api/v1/admin/keys`, with the admin token; then `tenant_id`
 * is required on create and filters the listing).
 */
export function keyRoutes(keys: ApiKeys, operator: boolean) {
  const tag = operator ? ('admin' as const) : ('keys' as const);
  const op = (operation: Omit<Operation, 'tag' | 'admin'>) =>
    describe({ ...operation, operationId: `${operator ? 'admin' : ''}${operation.operationId}`, tag, admin: operator });
  const tenantOf = (c: Context<ApiEnv>, given: string | undefined): string | undefined => {
    if (!operator) {
      if (given !== undefined && given !== c.var.tenantId)
        throw new ValidationError('tenant_id may only name your own tenant here', [
          { path: 'tenant_id', message: 'not yours' },
        ]);
      return c.var.tenantId;
    }
    return given;
  };
  return new Hono<ApiEnv>()
    .post(
      '/',
      op({
        operationId: 'createKey',
        summary: 'Create an API key; the answer shows its secret (`key`) this once',
        responses: { 201: '{id, prefix, tenant_id, scopes, …, key}', 400: failure('invalid input') },
      }),
      jsonBody(newKeySchema, 64 * 1024),
      async (c) => {
        const body = c.req.valid('json');
        const tenantId = tenantOf(c, body.tenant_id);
        if (!tenantId) throw new ValidationError('tenant_id is required', [{ path: 'tenant_id', message: 'required' }]);
        const expiresAt = body.expires_at ? new Date(body.expires_at) : null;
        return c.json(await keys.create({ tenantId, scopes: body.scopes, name: body.name, expiresAt }), 201);
      },
    )
    .get(
      '/',
      op({
        operationId: 'listKeys',
        summary: 'API keys, newest first, without their secrets',
        responses: { 200: '{keys:[…]}' },
      }),
      query(z.object({ tenant_id: tenantSchema.optional() })),
      async (c) => c.json({ keys: await keys.list(tenantOf(c, c.req.valid('query').tenant_id)) }),
    )
    .delete(
      '/:id',
      op({
        operationId: 'revokeKey',
        summary: 'Revoke an API key (by id or prefix); it is refused from then on',
        responses: { 200: 'the key, revoked', 404: failure('no such key') },
      }),
      params(keyRef),
      async (c) => {
        const { id } = c.req.valid('param');
        const revoked = await keys.revoke(id, tenantOf(c, undefined));
        if (!revoked) throw new NotFoundError(`no API key ${id}`);
        return c.json(revoked);
      },
    );
}
