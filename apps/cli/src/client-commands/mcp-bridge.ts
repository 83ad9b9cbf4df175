import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * Relays MCP messages between a local transport (stdio) and a remote one (Streamable HTTP), both
 * ways. A request the remote cannot take (server down, refused) is answered with a JSON-RPC
 * error naming the endpoint, so the client sees why instead of waiting forever.
 */
export async function bridge(local: Transport, remote: StreamableHTTPClientTransport, endpoint: string): Promise<void> {
  local.onmessage = (message) => {
    remote.send(message).catch((err: unknown) => {
      if (!('method' in message) || !('id' in message)) return;
      void local.send({
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: -32603,
          message: `ctxvault at ${endpoint}: ${err instanceof Error ? err.message : String(err)}`,
        },
      });
    });
  };
  remote.onmessage = (message) => {
    // later requests carry the negotiated version in their MCP-Protocol-Version header
    const version = protocolVersionOf(message);
    if (version) remote.setProtocolVersion(version);
    void local.send(message);
  };
  remote.onerror = (err) => process.stderr.write(`ctxvault mcp: ${err.message}\n`);
  local.onclose = () => void remote.close();
  await remote.start();
  await local.start();
}

function protocolVersionOf(message: JSONRPCMessage): string | undefined {
  if (!('result' in message)) return undefined;
  const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
  return typeof version === 'string' ? version : undefined;
}
