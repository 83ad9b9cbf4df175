// Starts the real, built `ctxvault` CLI (`node apps/cli/dist/main.js`, built by the global setup) as
// child processes (api, worker, start) for end-to-end tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_MAIN, ROOT } from './build.ts';

/** the V8 flags the processes run with in production (the `ctxvault` wrapper, the Dockerfile): README, "Memory" */
export const NODE_FLAGS = ['--max-semi-space-size=16'];

/** node's arguments before the CLI's own: stack traces name the TypeScript sources */
export const CLI_ARGS = cliArgs(CLI_MAIN);

function cliArgs(main = CLI_MAIN): string[] {
  return ['--enable-source-maps', ...NODE_FLAGS, main];
}

/**
 * Node's on-disk compile cache, shared by every CLI process the suites start: each loads the same
 * few thousand modules, and reusing their compiled code saves a good part of each start-up.
 */
const COMPILE_CACHE = path.join(tmpdir(), 'ctxvault-test-compile-cache');

/** The environment of a CLI child process: exactly `env`, plus PATH, HOME and the compile cache. */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_COMPILE_CACHE: COMPILE_CACHE, ...env };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface CtxvaultProcess {
  child: ChildProcess;
  /** everything the process logged so far */
  output(): string;
  /** SIGTERM (graceful) by default, SIGKILL for a crash; resolves when the process has exited */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `ctxvault <command>` with exactly the MCP_* settings given (plus those of `cliEnv`). */
/**
 * The processes this test file started that have not exited. Each runs in its own process group
 * (detached), so none ends with the test file's process: a test that failed or replaced a process
 * without stopping it would leave it running, polling Redis and holding memory, for the rest of the
 * run. Whatever is still here when the file's process exits is killed then.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // it ended meanwhile
    }
  }
});

export async function spawnCtxvault(
  command: 'api' | 'worker' | 'start' | 'migrate' | 'lifecycle',
  env: Record<string, string>,
  options: {
    readyLine?: RegExp;
    cwd?: string;
    timeoutMs?: number;
    args?: string[];
    /** another built CLI to start (a production copy's dist/main.js) */
    cli?: string;
  } = {},
): Promise<CtxvaultProcess> {
  const child = spawn(process.execPath, [...cliArgs(options.cli), command, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, so that a SIGKILL also ends whatever it started
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const proc: CtxvaultProcess = {
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        if (signal === 'SIGKILL') process.kill(-child.pid!, 'SIGKILL');
        else child.kill(signal);
      }
      await exited;
    },
  };
  if (options.readyLine) {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (!options.readyLine.test(output)) {
      if (child.exitCode !== null) throw new Error(`ctxvault ${command} exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) {
        await proc.stop('SIGKILL');
        throw new Error(`ctxvault ${command} did not get ready:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } else {
    await exited;
  }
  return proc;
}

/** Runs a one-shot `ctxvault <args…>` (migrate, s3 setup, put, get, …) to its end with exactly the environment given (plus those of `cliEnv`). */
export function runCtxvault(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; cli?: string } = {},
): Promise<{ code: number; output: string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs(options.cli), ...args], {
      cwd: options.cwd ?? ROOT,
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      output += d.toString();
    });
    // 'close' comes after the output streams ended, so nothing printed last is missed
    child.once('close', (code) => resolve({ code: code ?? -1, output, stdout, stderr }));
  });
}

/**
 * Runs `ctxvault lifecycle --once` with a deployment's environment (plus `env`) and returns the
 * counts it printed; fails when the pass does.
 */
export async function lifecyclePass(
  deploymentEnv: Record<string, string>,
  env: Record<string, string> = {},
): Promise<Record<string, number>> {
  const proc = await spawnCtxvault(
    'lifecycle',
    { ...deploymentEnv, MCP_LOGGING_LEVEL: 'warn', ...env },
    { args: ['--once'] },
  );
  const output = proc.output();
  if (proc.child.exitCode !== 0) throw new Error(`ctxvault lifecycle --once exited ${proc.child.exitCode}:\n${output}`);
  const counts = output.lastIndexOf('\n{\n') + 1;
  // it logs warnings only: shown, so that a test expecting other counts says why
  if (counts > 0) console.warn(`ctxvault lifecycle --once warned:\n${output.slice(0, counts)}`);
  return JSON.parse(output.slice(counts));
}
