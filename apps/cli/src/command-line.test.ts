import { describe, expect, it } from 'vitest';
import { splitCommandLine } from './command-line.ts';

const known = ['start', 'lifecycle', 's3 setup', 's3 check'];

describe('splitCommandLine', () => {
  it('finds one- and two-word commands and leaves their flags to them', () => {
    expect(splitCommandLine(['lifecycle', '--once'], known)).toEqual({
      name: 'lifecycle',
      args: ['--once'],
      configPath: undefined,
      help: false,
    });
    expect(splitCommandLine(['--config', 'c.yaml', 's3', 'setup', '--create-bucket'], known)).toEqual({
      name: 's3 setup',
      args: ['--create-bucket'],
      configPath: 'c.yaml',
      help: false,
    });
    expect(splitCommandLine(['s3', 'nothing'], known).name).toBe('s3');
    expect(splitCommandLine(['--help'], known)).toMatchObject({ name: undefined, help: true });
  });
});
