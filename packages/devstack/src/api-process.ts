import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, statSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { stopProcess } from './processes.js';

const API_ROOT = resolve(import.meta.dirname, '../../../apps/api');
const CONTRACTS_ROOT = resolve(API_ROOT, '../../packages/contracts');

function newestMtime(dir: string, skip: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skip(entry.name)) continue;
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

const isTestOnly = (name: string) => name.endsWith('.test.ts') || name === 'test' || name === 'reliability';

/**
 * How to run the API: the compiled server when both dist folders are newer than their sources
 * (what production runs), else the TypeScript sources through tsx, so a stale build is never
 * measured or tested by mistake.
 */
export function apiCommand(): { command: string; args: string[]; compiled: boolean } {
  const server = join(API_ROOT, 'dist/server.js');
  const contracts = join(CONTRACTS_ROOT, 'dist/index.js');
  const fresh =
    existsSync(server) &&
    existsSync(contracts) &&
    statSync(server).mtimeMs >= newestMtime(join(API_ROOT, 'src'), isTestOnly) &&
    statSync(contracts).mtimeMs >= newestMtime(join(CONTRACTS_ROOT, 'src'), (name) => name.endsWith('.test.ts'));
  if (fresh) return { command: process.execPath, args: [server], compiled: true };
  return {
    command: process.execPath,
    args: ['--conditions=@simorgh/source', '--import', 'tsx', join(API_ROOT, 'src/server.ts')],
    compiled: false,
  };
}

export type ApiProcess = {
  url: string;
  port: number;
  pid: number;
  compiled: boolean;
  /** The process's log output so far (JSON lines). */
  log(): string;
  /** SIGTERM (graceful), SIGKILL after the grace time. */
  stop(): Promise<void>;
};

/**
 * Runs `server.ts` as its own node process (as in production: separate event loop, real
 * start-up with counter reconciliation) and waits until /api/health answers.
 */
export async function startApiProcess(options: {
  env: Record<string, string | undefined>;
  logFile: string;
  port?: number;
  /** Another compiled build's server.js (inside apps/api, so it finds the same packages); apiCommand's choice otherwise. */
  server?: string;
}): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const { command, args, compiled } = options.server ? { command: process.execPath, args: [resolve(options.server)], compiled: true } : apiCommand();
  const logFd = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(command, args, {
    cwd: API_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', ...options.env, PORT: String(port) },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const log = () => (existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8') : '');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with code ${child.exitCode}:\n${log().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/api/health`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`API did not answer on ${url} within 60 s:\n${log().slice(-2000)}`);
      }
      await sleep(100);
    }
  }
  return {
    url,
    port,
    pid: child.pid ?? 0,
    compiled,
    log,
    stop: () => stopProcess(child, 'SIGTERM', 12_000),
  };
}
