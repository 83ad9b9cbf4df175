// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so check what can be
// checked: the compose file parses, it has the services the design names, every MCP_* variable it sets
// is a real setting that loads with the values given (its secrets from a filled-in .env.example), its
// defaults are safe, and its services run the multi-stage image of the Dockerfile (the production copy
// it makes is started for real in test/e2e/production-deploy).

import { readFileSync } from 'node:fs';
import { loadConfig } from '@ctxvault/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { healthcheckCommand, readDockerfile } from './helpers/dockerfile.ts';

const composeText = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
/** .env.example's variables, filled in as a user would */
const dotEnv = Object.fromEntries(
  envExample
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => {
      const [name, value] = line.split('=', 2) as [string, string];
      return [name, value || `filled-${name.toLowerCase()}`];
    }),
);

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}` (which fails when VAR is unset or empty). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)(?:(:-|:\?)([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value) return value;
    if (op === ':?') throw new Error(`${name}: ${arg}`);
    return op === ':-' ? (arg ?? '') : '';
  });
}

const compose = parse(interpolate(composeText, dotEnv), { merge: true });

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

  it('refuses to start while a secret of .env is missing, and has no default password', () => {
    for (const name of ['POSTGRES_PASSWORD', 'MINIO_ROOT_PASSWORD', 'CTXVAULT_ADMIN_TOKEN', 'CTXVAULT_METRICS_TOKEN'])
      expect(() => interpolate(composeText, { ...dotEnv, [name]: '' }), name).toThrow(name);
    expect(composeText).not.toMatch(/minioadmin|POSTGRES_PASSWORD: ctxvault|:ctxvault@/);
    // every variable compose reads is one .env.example lists
    const used = new Set([...composeText.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]));
    expect([...used].filter((name) => !(name! in dotEnv))).toEqual([]);
  });

  it('pins every image, publishes only the API on loopback, and no MinIO console', () => {
    for (const [name, service] of Object.entries<{ image?: string; ports?: string[] }>(compose.services)) {
      if (name === 'migrate' || name === 'api' || name === 'worker') continue;
      expect(service.image, name).toMatch(/:(\d+\.\d+(\.\d+)?|RELEASE\.[0-9T-]+Z)$/);
    }
    const published = Object.entries<{ ports?: string[] }>(compose.services).filter(([, s]) => s.ports?.length);
    expect(published.map(([name, s]) => [name, s.ports])).toEqual([['api', ['127.0.0.1:8080:8080']]]);
    expect(compose.services.minio.command).not.toContain('console');
    expect(compose.services.minio.environment.MINIO_BROWSER).toBe('off');
  });

  it('runs with authentication on, an admin token and a metrics token', () => {
    const config = loadConfig({ env: compose.services.api.environment, configPath: undefined });
    expect(config.auth.mode).toBe('api_key');
    expect(config.admin.token).not.toBe('');
    expect(config.metrics.token).not.toBe('');
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
    // the young generation's size is the one the wrapper starts processes with (README: memory)
    expect(final.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe(
      '["node", "--max-semi-space-size=16", "/app/dist/main.js"]',
    );
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
