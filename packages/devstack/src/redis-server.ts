import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort } from './free-port.js';
import { requireBinary, spawnService, stopProcess, waitForPort } from './processes.js';

export type RedisServer = {
  port: number;
  /** redis://127.0.0.1:<port> with no DB number. */
  url: string;
  dataDir: string;
  /** Sends a signal to the server (SIGSTOP/SIGCONT/SIGKILL for fault tests). */
  signal(signal: NodeJS.Signals): void;
  /** Starts the server again on the same port and data dir after a stop or crash. */
  restart(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Starts redis-server on loopback with AOF (fsync on every write) + RDB snapshots and
 * `noeviction`, so an acknowledged write survives a crash of the server process and
 * nothing is ever dropped to make room. `extraArgs` are appended (e.g. `--replicaof`).
 */
export async function startRedisServer(options: { dataDir: string; port?: number; extraArgs?: string[] }): Promise<RedisServer> {
  const binary = requireBinary('redis-server', 'redis-server');
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', options.dataDir,
    '--daemonize', 'no',
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--save', '900 1 300 10 60 10000',
    '--maxmemory-policy', 'noeviction',
    '--databases', '64',
    '--logfile', '',
    ...(options.extraArgs ?? []),
  ];
  const log: string[] = [];
  let child: ChildProcess;

  const launch = async () => {
    child = spawnService(binary, args, log);
    try {
      await waitForPort(port, 15_000, child);
    } catch (error) {
      throw new Error(`redis-server did not start: ${(error as Error).message}\n${log.join('\n')}`);
    }
  };
  await launch();

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dataDir: options.dataDir,
    signal: (signal) => {
      child.kill(signal);
    },
    restart: async () => {
      await stopProcess(child, 'SIGKILL');
      await launch();
    },
    stop: async () => {
      child.kill('SIGCONT');
      await stopProcess(child);
    },
  };
}
