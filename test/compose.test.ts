// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so check what can be
// checked: the compose file parses, it has the services the design names, every MCP_* variable it sets
// is a real setting that loads with the values given, and its services run the multi-stage image of
// the Dockerfile (the production copy it makes is started for real in test/e2e/production-deploy).

import { readFileSync } from 'node:fs';
import { loadConfig } from '@ctxvault/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { healthcheckCommand, readDockerfile } from './helpers/dockerfile.ts';

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

describe('Dockerfile', () => {
  const instructions = readDockerfile();
  const stages = instructions.filter((i) => i.keyword === 'FROM');
  const final = instructions.filter((i) => i.stage === stages.length - 1);
  const rootPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const wrapper = readFileSync(new URL('../ctxvault', import.meta.url), 'utf8');

  it('is what every ctxvault service of docker-compose.yml builds and runs', () => {
    for (const service of ['api', 'worker', 'migrate']) {
      expect(compose.services[service].build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(compose.services[service].image).toBe('ctxvault:local');
    }
  });

  it('builds in one stage and runs a production copy in another, on the Node and pnpm of the wrapper', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const nodeVersion = /NODE_VERSION=(\S+)/.exec(wrapper)![1];
    for (const from of stages) expect(from.args).toMatch(new RegExp(`^node:${nodeVersion}-slim\\b`));
    expect(rootPackage.packageManager).toBe(`pnpm@${/PNPM_VERSION=(\S+)/.exec(wrapper)![1]}`);
    const build = instructions.filter((i) => i.stage === 0 && i.keyword === 'RUN').map((i) => i.args);
    expect(build.join(' ')).toContain(rootPackage.packageManager);
    const steps = build.at(-1)!;
    expect(steps).toContain('pnpm install --frozen-lockfile');
    expect(steps).toContain('pnpm run build');
    expect(steps).toMatch(/pnpm --filter @ctxvault\/cli deploy --prod \/app$/);
    // the final stage takes the deployed copy only: no sources, no dev dependencies
    expect(final.filter((i) => i.keyword === 'COPY').map((i) => i.args)).toEqual(['--from=build /app /app']);
  });

  it('runs plain node on the built CLI as a non-root user, with a health check', () => {
    expect(final.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "/app/dist/main.js"]');
    const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(healthcheckCommand(instructions)[0]).toBe('node');
    expect(instructions.map((i) => i.args).join('\n')).not.toMatch(/\btsx\b/);
  });

  it('the worker checks its metrics port instead, and migrate (a one-off) none', () => {
    expect(compose.services.worker.healthcheck.test.join(' ')).toContain(
      `127.0.0.1:${compose.services.worker.environment.MCP_METRICS_WORKER_PORT}/metrics`,
    );
    expect(compose.services.migrate.healthcheck).toEqual({ disable: true });
  });
});

function leafExists(config: object, underscored: string): boolean {
  const walk = (node: unknown, path: string[]): boolean => {
    if (node && typeof node === 'object') return Object.entries(node).some(([k, v]) => walk(v, [...path, k]));
    return path.join('_') === underscored;
  };
  return walk(config, []);
}
