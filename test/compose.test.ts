// docker-compose.yml cannot be run here (no Docker engine), so check what can be checked: it parses,
// it has the services the design names, and every MCP_* variable it sets is a real setting that
// loads with the values given.

import { readFileSync } from 'node:fs';
import { loadConfig } from '@ctxvault/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });

describe('docker-compose.yml', () => {
  it('runs Postgres, Redis, MinIO with its bucket, migrations, the API and the worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'migrate',
      'minio',
      'minio-setup',
      'postgres',
      'redis',
      'worker',
    ]);
    expect(compose.services.api.command).toEqual(['api']);
    expect(compose.services.worker.command).toEqual(['worker']);
    expect(compose.services.migrate.command).toEqual(['migrate']);
    expect(compose.services['minio-setup'].command.join(' ')).toContain('mc mb --ignore-existing local/mcp-contexts');
  });

  for (const service of ['api', 'worker', 'migrate']) {
    it(`${service}: every MCP_* variable is a known setting and the settings load`, () => {
      const env: Record<string, string> = compose.services[service].environment;
      const config = loadConfig({ env, configPath: undefined });
      expect(config.storage.type).toBe('s3');
      expect(config.storage.s3.endpoint).toBe('http://minio:9000');
      expect(config.database.url).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(config.queue.backend).toBe('redis');
      // a misspelt variable would be silently ignored by the loader: check each one maps to a key
      for (const name of Object.keys(env).filter((n) => n.startsWith('MCP_'))) {
        const leaf = name.slice(4).toLowerCase();
        expect(leafExists(config, leaf), `${name} is not a setting`).toBe(true);
      }
    });
  }
});

function leafExists(config: object, underscored: string): boolean {
  const walk = (node: unknown, path: string[]): boolean => {
    if (node && typeof node === 'object') return Object.entries(node).some(([k, v]) => walk(v, [...path, k]));
    return path.join('_') === underscored;
  };
  return walk(config, []);
}
