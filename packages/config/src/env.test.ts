import { describe, expect, it } from 'vitest';
import { envVarName, settingsFromEnv } from './env.ts';
import { settingPaths } from './setting-paths.ts';

describe('envVarName', () => {
  it('joins the upper-cased key path with "_" after MCP_', () => {
    expect(envVarName(['storage', 'context_storage', 's3_path_prefix'])).toBe(
      'MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX',
    );
    expect(envVarName(['server', 'port'])).toBe('MCP_SERVER_PORT');
  });

  it('gives every setting its own variable', () => {
    const names = settingPaths.map(envVarName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('settingsFromEnv', () => {
  it('nests variables by the schema keys, keeping underscores inside keys', () => {
    const settings = settingsFromEnv({
      MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX: 'ctx',
      MCP_STORAGE_S3_UPLOAD_PART_SIZE: '10MiB',
    });
    expect(settings).toEqual({
      storage: { context_storage: { s3_path_prefix: 'ctx' }, s3: { upload_part_size: '10MiB' } },
    });
  });

  it('ignores variables that name no setting, and MCP_CONFIG', () => {
    expect(settingsFromEnv({ MCP_CONFIG: '/etc/ctxvault.yaml', MCP_STORAGE_S3_BUKET: 'x', PATH: '/bin' })).toEqual({});
  });

  it('keeps empty values, so a variable can clear a string setting', () => {
    expect(settingsFromEnv({ MCP_ADMIN_TOKEN: '' })).toEqual({ admin: { token: '' } });
  });
});
