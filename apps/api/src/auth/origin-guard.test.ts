import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from '../errors.ts';
import { originGuard } from './origin-guard.ts';

const logger = { info() {}, warn() {}, error() {}, debug() {} };

function app(allowedHosts: string[] = [], allowedOrigins: string[] = []) {
  return new Hono()
    .use(originGuard({ allowedHosts, allowedOrigins }))
    .post('/mcp', (c) => c.text('ok'))
    .onError((err, c) => toErrorResponse(err, c, logger));
}

const post = (a: Hono, headers: Record<string, string>) =>
  a.request('http://127.0.0.1:8080/mcp', { method: 'POST', headers });

describe('originGuard', () => {
  it('lets loopback hosts and same-origin or listed origins through', async () => {
    for (const headers of <Record<string, string>[]>[
      { host: '127.0.0.1:8080' },
      { host: 'localhost:8080', origin: 'http://localhost:8080' },
      { host: '[::1]:8080' },
      { host: 'localhost:8080', origin: 'https://app.example' },
    ])
      expect((await post(app([], ['https://app.example']), headers)).status, JSON.stringify(headers)).toBe(200);
  });

  it('refuses a rebound Host and a foreign Origin with 403', async () => {
    const rebound = await post(app(), { host: 'evil.example:8080', origin: 'http://evil.example:8080' });
    expect(rebound.status).toBe(403);
    expect(((await rebound.json()) as { error: { code: string } }).error.code).toBe('host_not_allowed');
    const crossSite = await post(app(), { host: '127.0.0.1:8080', origin: 'http://evil.example' });
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed');
    // a listed name passes with or without its port; an unlisted port of it does not
    expect((await post(app(['vault.internal']), { host: 'vault.internal:8080' })).status).toBe(200);
    expect((await post(app(['vault.internal:443']), { host: 'vault.internal:8080' })).status).toBe(403);
    expect((await post(app(['*']), { host: 'anything.example' })).status).toBe(200);
  });
});
