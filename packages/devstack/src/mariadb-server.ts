import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';
import { requireBinary, spawnService, stopProcess, waitForPort } from './processes.js';

const run = promisify(execFile);

export type MariaDbServer = {
  port: number;
  socketPath: string;
  dataDir: string;
  /** A root connection over the unix socket, for setting up databases and users. */
  adminConnection(database?: string): Promise<mysql.Connection>;
  signal(signal: NodeJS.Signals): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Starts mariadbd on loopback with its own data dir (initialised on first use) and no
 * config files from the machine, so it never touches a system database.
 */
export async function startMariaDb(options: { dataDir: string; port?: number }): Promise<MariaDbServer> {
  const installDb = requireBinary('mariadb-install-db', 'mariadb-server');
  const server = requireBinary('mariadbd', 'mariadb-server');
  const dataDir = options.dataDir;
  const port = options.port ?? (await freePort());
  const socketPath = join(dataDir, 'mariadb.sock');
  const runAsRoot = process.getuid?.() === 0;
  const userArgs = runAsRoot ? ['--user=root'] : [];

  if (!existsSync(join(dataDir, 'mysql'))) {
    mkdirSync(dataDir, { recursive: true });
    await run(installDb, [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
      ...userArgs,
    ]);
  }

  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socketPath}`,
    `--pid-file=${join(dataDir, 'mariadb.pid')}`,
    `--log-error=${join(dataDir, 'error.log')}`,
    '--skip-log-bin',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=64M',
    '--max-connections=500',
    ...userArgs,
  ];
  const log: string[] = [];
  let child: ChildProcess;
  const launch = async () => {
    child = spawnService(server, args, log);
    try {
      await waitForPort(port, 60_000, child);
    } catch (error) {
      throw new Error(`mariadbd did not start: ${(error as Error).message} (see ${join(dataDir, 'error.log')})`);
    }
  };
  await launch();

  return {
    port,
    socketPath,
    dataDir,
    adminConnection: (database) =>
      mysql.createConnection({ socketPath, user: 'root', multipleStatements: true, ...(database ? { database } : {}) }),
    signal: (signal) => {
      child.kill(signal);
    },
    restart: async () => {
      child.kill('SIGCONT');
      await stopProcess(child);
      await launch();
    },
    stop: async () => {
      child.kill('SIGCONT');
      await stopProcess(child, 'SIGTERM', 30_000);
    },
  };
}
