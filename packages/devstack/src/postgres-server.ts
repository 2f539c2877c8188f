import type { ChildProcess } from 'node:child_process';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';
import { spawnService, stopProcess, waitForPort } from './processes.js';

const run = promisify(execFile);

/** The superuser initdb creates; it signs in without a password, on loopback only. */
const SUPERUSER = 'postgres';
/** The system user PostgreSQL runs as when we are root (it refuses to run as root). */
const SYSTEM_USER = 'postgres';

export type PostgresServer = {
  port: number;
  dataDir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> (the superuser, no password). */
  url(database?: string): string;
  /** Creates a database unless it exists. */
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  signal(signal: NodeJS.Signals): void;
  /** Starts the server again on the same port and data dir after a stop or crash. */
  restart(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The directory of the server binaries (`initdb`, `postgres`), which Debian keeps off PATH in
 * /usr/lib/postgresql/<version>/bin: `pg_config --bindir` when it names one holding them, else
 * the newest version found there.
 */
export function postgresBinDir(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [
    ...(fromConfig.status === 0 ? [fromConfig.stdout.trim()] : []),
    ...installedVersions().map((version) => join(VERSIONS_DIR, version, 'bin')),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb')));
  if (!found) throw new Error('postgres not found: install it with "sudo apt-get install -y postgresql"');
  return found;
}

const VERSIONS_DIR = '/usr/lib/postgresql';

/** Debian's installed server versions, newest first. */
function installedVersions(): string[] {
  if (!existsSync(VERSIONS_DIR)) return [];
  return readdirSync(VERSIONS_DIR)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
}

/**
 * Starts PostgreSQL on loopback with its own data dir (initialised on first use, trust
 * authentication for loopback only) and no configuration from the machine. PostgreSQL refuses
 * to run as root: as root, initdb and the server run as the `postgres` system user through
 * `setpriv`, which execs in place (stopping the child stops the server), and the data dir is
 * given to that user. `durable: false` turns fsync off: for throwaway test data only.
 */
export async function startPostgres(options: { dataDir: string; port?: number; durable?: boolean }): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const dataDir = options.dataDir;
  const port = options.port ?? (await freePort());
  const asRoot = process.getuid?.() === 0;
  const command = (binary: string, args: string[]): [string, string[]] =>
    asRoot
      ? ['setpriv', [`--reuid=${SYSTEM_USER}`, `--regid=${SYSTEM_USER}`, '--init-groups', join(binDir, binary), ...args]]
      : [join(binDir, binary), args];

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (asRoot) {
    const owner = spawnSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8' });
    if (owner.status !== 0) throw new Error(`running as root needs the "${SYSTEM_USER}" system user (the postgresql package creates it)`);
    chownSync(dataDir, Number(owner.stdout.trim()), Number(group.stdout.trim()));
    allowTraversal(dirname(dataDir));
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const [initdb, initArgs] = command('initdb', [
      '-D', dataDir,
      '-U', SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-instructions',
      ...(options.durable === false ? ['--no-sync'] : []),
    ]);
    try {
      await run(initdb, initArgs, { cwd: dataDir });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`initdb failed for ${dataDir}: ${stderr?.trim() || (error as Error).message}`);
    }
  }

  const args = [
    '-D', dataDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    // The socket sits in the data dir, which the server's user owns whoever started it.
    '-c', `unix_socket_directories=${dataDir}`,
    '-c', 'max_connections=300',
    '-c', 'logging_collector=off',
    ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  const log: string[] = [];
  let child: ChildProcess;
  const launch = async () => {
    const [server, serverArgs] = command('postgres', args);
    child = spawnService(server, serverArgs, log);
    try {
      await waitForPort(port, 30_000, child);
      await waitForQueries(url('postgres'), 30_000);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not start: ${(error as Error).message}\n${log.slice(-20).join('\n')}`);
    }
  };
  const url = (database = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  await launch();

  return {
    port,
    dataDir,
    url,
    createDatabase: (name) =>
      admin(async (client) => {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      }),
    dropDatabase: (name) => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`))),
    signal: (signal) => {
      child.kill(signal);
    },
    restart: async () => {
      child.kill('SIGCONT');
      // SIGINT: "fast" shutdown, which does not wait for clients to disconnect.
      await stopProcess(child, 'SIGINT');
      await launch();
    },
    stop: async () => {
      child.kill('SIGCONT');
      await stopProcess(child, 'SIGINT', 30_000);
    },
  };
}

/**
 * The server's user must reach its data dir: a temporary dir (mode 0700) above it gets the
 * search bit for others (never the read bit: its entries are not listed).
 */
function allowTraversal(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}

/** The port opens before the server accepts sessions (it may still be starting up). */
async function waitForQueries(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
