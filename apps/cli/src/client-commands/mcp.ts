import type { Config } from '@ctxvault/config';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { credentialHeaders, parseCommand, serverOf } from './client-options.ts';
import { bridge } from './mcp-bridge.ts';
import { StdioTransport } from './stdio-transport.ts';

/**
 * `ctxvault mcp`: MCP over stdio, for clients that spawn a command. It relays each message to the
 * API's Streamable HTTP endpoint (`client.url` + `/mcp`), so the tools run in the API, exactly as
 * for HTTP clients, and this process holds no database, queue or S3 connection; it forwards the
 * API key (client.api_key, --api-key) as a bearer token.
 * stdout carries only protocol messages; diagnostics go to stderr.
 */
export async function runMcp(config: Config, args: string[]): Promise<void> {
  const { values } = parseCommand(args, {});
  const server = serverOf(config, values);
  const endpoint = new URL('/mcp', server.url);
  const remote = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: credentialHeaders(server) } });
  // a message may be as large as a request body the API accepts; a larger one is answered with an error
  const local = new StdioTransport(config.limits.max_body_bytes, 'limits.max_body_bytes');
  await bridge(local, remote, endpoint.href);
  // the client ends the session by closing our stdin
  process.stdin.once('end', () => void local.close().then(() => process.exit(0)));
}
