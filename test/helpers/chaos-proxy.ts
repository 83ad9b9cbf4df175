// An HTTP proxy in front of the test S3 server (moto) that misbehaves like a flaky S3: seeded and
// at configurable rates it answers `503 SlowDown` (S3's XML error body) or resets the connection —
// before the request reaches S3, after S3 acted on it but before the answer is sent (the answer is
// lost), or after part of the answer's body. Rules can aim a fault at chosen requests too.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * - `slow-down`: 503 SlowDown, the request is not forwarded
 * - `reset-before`: the connection is reset before the request is forwarded
 * - `reset-lost-answer`: the request is forwarded and acted on; the connection is reset before the answer
 * - `reset-mid-answer`: the answer's headers and part of its body are sent, then the connection is reset
 */
type ChaosFault = 'slow-down' | 'reset-before' | 'reset-lost-answer' | 'reset-mid-answer';

export interface ChaosRequest {
  method: string;
  /** the path without the query, e.g. `/bucket/contexts/ab/id/1.json` */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

interface ChaosRule {
  match(request: ChaosRequest): boolean;
  fault: ChaosFault;
  /** how many matching requests get the fault; unlimited when absent */
  times?: number;
}

export interface ChaosRates {
  /** share of requests answered 503 SlowDown, 0..1 */
  slowDown: number;
  /** share of requests whose connection is reset (at a random one of the three points), 0..1 */
  reset: number;
}

interface ChaosStats {
  requests: number;
  faults: Record<ChaosFault, number>;
  /** `METHOD path?query → fault`, in order, for a failing test's message */
  log: string[];
}

export interface ChaosProxy {
  url: string;
  stats: ChaosStats;
  setRates(rates: ChaosRates): void;
  /** rules are tried in order before the random faults; a rule that ran out of `times` is skipped */
  addRule(rule: ChaosRule): void;
  clearRules(): void;
  close(): Promise<void>;
}

const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>chaos</RequestId></Error>';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'proxy-connection']);
const RESETS: ChaosFault[] = ['reset-before', 'reset-lost-answer', 'reset-mid-answer'];

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence of decisions. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startChaosProxy(
  target: string,
  { seed = 1, rates = { slowDown: 0, reset: 0 } }: { seed?: number; rates?: ChaosRates } = {},
): Promise<ChaosProxy> {
  const upstream = new URL(target);
  const random = seededRandom(seed);
  const rules: Array<ChaosRule & { left: number }> = [];
  const sockets = new Set<Socket>();
  const stats: ChaosStats = {
    requests: 0,
    faults: { 'slow-down': 0, 'reset-before': 0, 'reset-lost-answer': 0, 'reset-mid-answer': 0 },
    log: [],
  };
  let current = rates;

  const choose = (req: ChaosRequest): ChaosFault | null => {
    for (const rule of rules) {
      if (rule.left > 0 && rule.match(req)) {
        rule.left--;
        return rule.fault;
      }
    }
    const roll = random();
    if (roll < current.slowDown) return 'slow-down';
    if (roll < current.slowDown + current.reset) return RESETS[Math.floor(random() * RESETS.length)]!;
    return null;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const described: ChaosRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    };
    stats.requests++;
    const fault = choose(described);
    if (fault) {
      stats.faults[fault]++;
      stats.log.push(`${described.method} ${req.url} → ${fault}`);
    }
    if (fault === 'slow-down') return answerSlowDown(req, res);
    if (fault === 'reset-before') return reset(req.socket);
    forward(req, res, fault);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const forward = (req: IncomingMessage, res: ServerResponse, fault: ChaosFault | null) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const outgoing = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        if (fault === 'reset-lost-answer') {
          answer.resume();
          answer.once('end', () => reset(req.socket));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (fault !== 'reset-mid-answer') {
          answer.pipe(res);
          return;
        }
        // cut somewhere inside the body: after a random share of its declared length
        const length = Number(answer.headers['content-length'] ?? 0);
        const cutAt = Math.floor(length * (0.1 + 0.8 * random()));
        let sent = 0;
        res.flushHeaders();
        answer.on('data', (chunk: Buffer) => {
          if (sent >= cutAt) return;
          const piece = chunk.subarray(0, cutAt - sent);
          sent += piece.length;
          res.write(piece);
          if (sent >= cutAt) {
            answer.destroy();
            // let the written bytes leave before the reset
            setTimeout(() => reset(req.socket), 20);
          }
        });
        answer.once('end', () => reset(req.socket));
      },
    );
    outgoing.on('error', () => reset(req.socket));
    req.pipe(outgoing);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setRates: (next) => {
      current = next;
    },
    addRule: (rule) => {
      rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clearRules: () => {
      rules.length = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerSlowDown(req: IncomingMessage, res: ServerResponse): void {
  // S3 reads the request before it refuses it; a client still sending its body then gets the answer
  req.resume();
  req.once('end', () => {
    res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN_BODY) });
    res.end(SLOW_DOWN_BODY);
  });
}

/** A TCP reset (RST), not a clean close: the client sees ECONNRESET. */
function reset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
