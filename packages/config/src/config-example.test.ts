import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from './load-config.ts';
import { hasValueAt } from './plain-objects.ts';
import { settingPaths } from './setting-paths.ts';
import { readSettingsFile } from './settings-file.ts';

const examplePath = fileURLToPath(new URL('../../../config.example.yaml', import.meta.url));

describe('config.example.yaml', () => {
  it('loads, and holds exactly the defaults', () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'ctxvault-config-'));
    vi.spyOn(process, 'cwd').mockReturnValue(emptyDir);
    try {
      expect(loadConfig({ configPath: examplePath, env: {} })).toEqual(loadConfig({ env: {} }));
    } finally {
      vi.restoreAllMocks();
      rmSync(emptyDir, { recursive: true });
    }
  });

  it('writes out every setting except the derived queue.backend and auth.mode', () => {
    const { settings } = readSettingsFile(examplePath);
    const missing = settingPaths.filter((path) => !hasValueAt(settings, path)).map((path) => path.join('.'));
    expect(missing).toEqual(['auth.mode', 'queue.backend']);
  });
});
