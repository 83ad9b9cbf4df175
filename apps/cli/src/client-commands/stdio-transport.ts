import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { type Line, LineSplitter } from './line-splitter.ts';

/**
 * MCP's stdio transport (newline-delimited JSON-RPC on stdin/stdout), for `ctxvault mcp`, in place of
 * the SDK's `StdioServerTransport`: the same behaviour, but lines are split in linear time
 * ({@link LineSplitter}), and a message it cannot take is answered instead of closing the transport:
 * one longer than `maxMessageBytes` gets an Invalid Request error (the request's id when it is the
 * message's first or last member, as the SDK's clients write it, else null) and is dropped as it
 * arrives, never held; one that is not JSON gets a Parse error (id null). Each is also reported to
 * `onerror`.
 */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly lines: LineSplitter;
  private started = false;

  constructor(
    private readonly maxMessageBytes: number,
    /** names the limit in the errors it answers with */
    private readonly limitName: string,
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {
    this.lines = new LineSplitter(maxMessageBytes);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('StdioTransport already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStdinError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStdinError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.lines.clear();
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    for (const line of this.lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.receive(line);
  };

  private readonly onStdinError = (error: Error): void => this.onerror?.(error);

  private receive(line: Line): void {
    if (line.kind === 'too_long') {
      const message = `message of ${line.bytes} bytes is over ${this.limitName} (${this.maxMessageBytes} bytes)`;
      this.refuse(idOf(line.head, line.tail), ErrorCode.InvalidRequest, message);
      return;
    }
    if (line.text.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line.text);
    } catch (err) {
      this.refuse(null, ErrorCode.ParseError, `message is not JSON: ${(err as Error).message}`);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      const named = typeof id === 'string' || typeof id === 'number' ? id : null;
      this.refuse(named, ErrorCode.InvalidRequest, `not a JSON-RPC 2.0 message: ${parsed.error.message}`);
      return;
    }
    this.onmessage?.(parsed.data);
  }

  private refuse(id: RequestId | null, code: ErrorCode, message: string): void {
    this.onerror?.(new Error(message));
    // JSON-RPC answers what it cannot read with id null; the SDK's types want an id
    void this.send({ jsonrpc: '2.0', id: id as RequestId, error: { code, message } });
  }
}

const ID = String.raw`"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")`;
const FIRST_ID = new RegExp(String.raw`^\s*\{\s*${ID}\s*[,}]`);
const AFTER_JSONRPC_ID = new RegExp(String.raw`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*${ID}\s*[,}]`);
const LAST_ID = new RegExp(String.raw`[,{]\s*${ID}\s*\}\s*$`);

/** the id of a JSON-RPC message known only by its ends, when it is its first (after jsonrpc) or last member */
export function idOf(head: string, tail: string): RequestId | null {
  const found = FIRST_ID.exec(head) ?? AFTER_JSONRPC_ID.exec(head) ?? LAST_ID.exec(tail);
  if (!found) return null;
  const id: unknown = JSON.parse(found[1]!);
  return typeof id === 'number' || typeof id === 'string' ? id : null;
}
