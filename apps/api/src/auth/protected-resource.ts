import { API_KEY_SCOPES } from '@ctxvault/db';
import { Hono } from 'hono';
import { describe } from '../openapi/describe.ts';
import { PROTECTED_RESOURCE_PATH, publicOrigin } from './authenticate.ts';

/**
 * The OAuth 2.0 Protected Resource Metadata of `/mcp` (RFC 9728), which the MCP authorization spec
 * has clients read after a 401: the resource and the authorization server that issues its tokens.
 */
export function protectedResourceRoutes({ issuer, resourceUrl }: { issuer: string; resourceUrl: string }) {
  const answer = (origin: string) => ({
    resource: `${origin}/mcp`,
    authorization_servers: issuer ? [issuer] : [],
    bearer_methods_supported: ['header'],
    scopes_supported: [...API_KEY_SCOPES],
    resource_name: 'ctxvault',
  });
  return new Hono()
    .get(
      PROTECTED_RESOURCE_PATH,
      describe({
        operationId: 'protectedResourceMetadata',
        tag: 'mcp',
        summary: 'OAuth Protected Resource Metadata (RFC 9728) of /mcp',
        responses: { 200: '{resource, authorization_servers, scopes_supported, …}' },
      }),
      (c) => c.json(answer(publicOrigin(c, resourceUrl))),
    )
    .get(
      `${PROTECTED_RESOURCE_PATH}/mcp`,
      describe({
        operationId: 'protectedResourceMetadataOfMcp',
        tag: 'mcp',
        summary: 'The same metadata at the path RFC 9728 derives from the resource /mcp',
        responses: { 200: '{resource, authorization_servers, scopes_supported, …}' },
      }),
      (c) => c.json(answer(publicOrigin(c, resourceUrl))),
    );
}
