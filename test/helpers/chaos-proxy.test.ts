// The chaos proxy itself, in front of a small local HTTP server that records what reached it.
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosProxy, seededRandom, startChaosProxy } from './chaos-proxy.ts';

const BODY = randomBytes(64 * 1024);
let upstream: Server;
let upstreamUrl: string;
const reached: string[] = [];
let proxy: ChaosProxy | undefined;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      reached.push(`${req.method} ${req.url} ${Buffer.concat(chunks).length}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
      res.end(BODY);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
afterEach(async () => {
  reached.length = 0;
  await proxy?.close();
  proxy = undefined;
});

interface Outcome {
  status?: number;
  body: Buffer;
  error?: string;
}

/** One request on a fresh connection; resolves with whatever arrived and how it ended. */
function send(url: string, method = 'GET', payload?: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    const req = request(url, { method, agent: false }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      res.on('error', (err) =>
        resolve({ status, body: Buffer.concat(chunks), error: (err as { code?: string }).code ?? err.message }),
      );
    });
    req.on('error', (err) =>
      resolve({ status, body: Buffer.concat(chunks), error: (err as { code?: string }).code ?? err.message }),
    );
    req.end(payload);
  });
}

describe('chaos proxy', () => {
  it('forwards requests and answers unchanged when no fault is due', async () => {
    proxy = await startChaosProxy(upstreamUrl);
    const out = await send(`${proxy.url}/bucket/key?partNumber=1`, 'PUT', Buffer.alloc(1000, 1));
    expect(out.status).toBe(200);
    expect(out.body.equals(BODY)).toBe(true);
    expect(reached).toEqual(['PUT /bucket/key?partNumber=1 1000']);
    expect(proxy.stats.requests).toBe(1);
  });

  it('answers 503 SlowDown with S3 XML and does not forward', async () => {
    proxy = await startChaosProxy(upstreamUrl);
    proxy.addRule({ match: (r) => r.method === 'PUT', fault: 'slow-down', times: 1 });
    const refused = await send(`${proxy.url}/bucket/key`, 'PUT', Buffer.alloc(10));
    expect(refused.status).toBe(503);
    expect(refused.body.toString()).toMatch(/<Code>SlowDown<\/Code>/);
    expect(reached).toEqual([]);
    // the rule ran out: the next one goes through
    expect((await send(`${proxy.url}/bucket/key`, 'PUT', Buffer.alloc(10))).status).toBe(200);
    expect(proxy.stats.faults['slow-down']).toBe(1);
  });

  it('resets before forwarding: the client sees ECONNRESET and S3 never saw the request', async () => {
    proxy = await startChaosProxy(upstreamUrl);
    proxy.addRule({ match: () => true, fault: 'reset-before' });
    const out = await send(`${proxy.url}/bucket/key`);
    expect(out.error).toBe('ECONNRESET');
    expect(out.status).toBeUndefined();
    expect(reached).toEqual([]);
  });

  it('loses the answer: S3 acted on the request, the client sees a reset and no answer', async () => {
    proxy = await startChaosProxy(upstreamUrl);
    proxy.addRule({ match: (r) => r.query.has('uploads'), fault: 'reset-lost-answer' });
    const out = await send(`${proxy.url}/bucket/key?uploads`, 'POST');
    expect(out.error).toBe('ECONNRESET');
    expect(out.status).toBeUndefined();
    expect(reached).toEqual(['POST /bucket/key?uploads 0']);
  });

  it('cuts an answer mid-body: headers and part of the body arrive, then the connection is reset', async () => {
    proxy = await startChaosProxy(upstreamUrl);
    proxy.addRule({ match: () => true, fault: 'reset-mid-answer' });
    const out = await send(`${proxy.url}/bucket/key`);
    expect(out.status).toBe(200);
    expect(out.error).toMatch(/ECONNRESET|aborted/);
    expect(out.body.length).toBeGreaterThan(0);
    expect(out.body.length).toBeLessThan(BODY.length);
    expect(out.body.equals(BODY.subarray(0, out.body.length))).toBe(true);
  });

  it('at the configured rates, with the same decisions for the same seed', async () => {
    const run = async (seed: number) => {
      proxy = await startChaosProxy(upstreamUrl, { seed, rates: { slowDown: 0.1, reset: 0.03 } });
      const outcomes: string[] = [];
      for (let i = 0; i < 400; i++) {
        const out = await send(`${proxy.url}/bucket/k${i}`);
        outcomes.push(out.error ? 'reset' : String(out.status));
      }
      const stats = proxy.stats;
      await proxy.close();
      proxy = undefined;
      return { outcomes, stats };
    };
    const first = await run(42);
    const again = await run(42);
    expect(again.outcomes).toEqual(first.outcomes);
    const slowDowns = first.outcomes.filter((o) => o === '503').length;
    const resets = first.outcomes.filter((o) => o === 'reset').length;
    // 400 draws: 10 % ± 4 points and 3 % ± 2.5 points hold for this seed and would for almost any
    expect(slowDowns).toBe(first.stats.faults['slow-down']);
    expect(slowDowns / 400).toBeGreaterThan(0.06);
    expect(slowDowns / 400).toBeLessThan(0.14);
    expect(resets / 400).toBeGreaterThan(0.005);
    expect(resets / 400).toBeLessThan(0.055);
    const other = await run(7);
    expect(other.outcomes).not.toEqual(first.outcomes);
  }, 60_000);

  it('seededRandom is deterministic and spread over [0, 1)', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(draws);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.filter((d) => d < 0.5).length).toBeGreaterThan(400);
  });
});
