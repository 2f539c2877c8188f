import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createReadOnlyUser,
  DEMO_TPMS,
  freePort,
  loadTpms,
  startMariaDb,
  startPostgres,
  startRedisServer,
  stopProcess,
  waitForPort,
  type MariaDbServer,
  type PostgresServer,
  type RedisServer,
  startNginx,
  type NginxServer,
} from '@simorgh/devstack';
import { startApiProcess, type ApiProcess } from '@simorgh/devstack/api-process';
import { createLogger } from '@simorgh/api/logger';
import { createRedisClient, redisTargetAt } from '@simorgh/api/redis';

export const BENCH_USER = 'bench.user';
/**
 * Users of the creation runs at a few connections (the general and the warm project run), apart
 * from those at 50, so no user's CHATS_PER_MINUTE refuses part of a run on a fast machine.
 */
export const BENCH_FEW_USERS = { general: 'bench.few.general', warm: 'bench.few.warm' } as const;
/** The user of the general creation run at 50 connections (the project runs are BENCH_USER's). */
export const BENCH_GENERAL_USER = 'bench.general';
export const BENCH_ADMIN = 'bench.admin';
/** Projects that exist only for the cold-cache run: each request names a new one. */
export const COLD_PROJECT_BASE = 500_000;
export const COLD_PROJECT_COUNT = 30_000;
/** A demo project the bench user may use (warm-cache run). */
export const WARM_PROJECT = 10234;

export type LocalStack = {
  redis: RedisServer;
  mariadb: MariaDbServer;
  postgres: PostgresServer;
  /** The local OpenAI-compatible server (its own process). */
  llm: { url: string };
  api: ApiProcess;
  /** With `compareServer`: another build's API on the same services (first-token rows side by side). */
  compared: ApiProcess | null;
  nginx: NginxServer;
  baselineUrl: string;
  jwtSecret: string;
  redisUrl: string;
  stop(): Promise<void>;
};

/** Bulk rows for the cold-cache run, in a few multi-row INSERTs (seconds, not minutes). */
async function loadColdProjects(mariadb: MariaDbServer, database: string): Promise<void> {
  const admin = await mariadb.adminConnection(database);
  try {
    for (let start = 0; start < COLD_PROJECT_COUNT; start += 5000) {
      const ids = Array.from({ length: Math.min(5000, COLD_PROJECT_COUNT - start) }, (_, index) => COLD_PROJECT_BASE + start + index);
      await admin.query(`INSERT INTO projects (IDProjectMain, Project_Name) VALUES ${ids.map((id) => `(${id}, 'Bench project ${id}')`).join(',')}`);
      await admin.query(`INSERT INTO draft_permission (project_ID, user) VALUES ${ids.map((id) => `(${id}, '${BENCH_USER}')`).join(',')}`);
    }
  } finally {
    await admin.end();
  }
}

/** Runs one of the bench's helper servers (next to this file) as its own node process on a free port. */
async function startNodeScript(file: string, cleanups: Array<() => Promise<void>>): Promise<{ url: string }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--conditions=@simorgh/source', '--import', 'tsx', resolve(import.meta.dirname, file)], {
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  cleanups.push(() => stopProcess(child));
  await waitForPort(port, 30_000, child);
  return { url: `http://127.0.0.1:${port}` };
}

/** Lets a run compare Redis fsync policies (the starters default to `always`). */
async function setAppendfsync(url: string, policy: string): Promise<void> {
  const client = createRedisClient(redisTargetAt(url), 0, createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }), 'bench-config');
  await client.connect();
  try {
    await client.configSet('appendfsync', policy);
  } finally {
    client.destroy();
  }
}

/**
 * Throwaway services on loopback, each in a temp dir: redis-server, mariadbd with the demo TPMS
 * plus bench projects, PostgreSQL, the local OpenAI-compatible server, the API as its own process, the
 * repository's nginx.conf in front of it, and the bare Express baseline. `postgresDir`: PostgreSQL's
 * data dir, kept after the run (its search corpus reused), instead of one in the temp dir.
 */
export async function startLocalStack(say: (line: string) => void, options: { appendfsync?: string; postgresDir?: string; compareServer?: string } = {}): Promise<LocalStack> {
  const root = mkdtempSync(join(tmpdir(), 'simorgh-bench-'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(root, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // keep stopping the rest
      }
    }
  };
  try {
    say('starting redis-server, mariadbd, PostgreSQL and the local model server...');
    const [redis, mariadb, postgres, llm] = await Promise.all([
      startRedisServer({ dataDir: join(root, 'redis') }),
      startMariaDb({ dataDir: join(root, 'mysql') }),
      // Durable like production: the mirror's cost is part of what is measured.
      startPostgres({ dataDir: options.postgresDir ?? join(root, 'postgres') }),
      startNodeScript('model-server.ts', cleanups),
    ]).then(([redis, mariadb, postgres, model]) => [redis, mariadb, postgres, { url: `${model.url}/v1` }] as const);
    cleanups.push(() => redis.stop(), () => mariadb.stop(), () => postgres.stop());
    if (options.appendfsync) await setAppendfsync(`${redis.url}/0`, options.appendfsync);

    say('loading the TPMS fixtures...');
    const database = 'tpms_bench';
    const password = randomBytes(12).toString('hex');
    const admin = await mariadb.adminConnection();
    try {
      await loadTpms(admin, database, {
        ...DEMO_TPMS,
        permissions: [...DEMO_TPMS.permissions, [WARM_PROJECT, BENCH_USER], [WARM_PROJECT, BENCH_FEW_USERS.warm]],
      });
      await createReadOnlyUser(admin, database, 'simorgh_ro', password);
    } finally {
      await admin.end();
    }
    await loadColdProjects(mariadb, database);

    const jwtSecret = randomBytes(32).toString('hex');
    const redisUrl = `${redis.url}/0`;
    say('starting the API process, nginx and the baseline...');
    const apiEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      REDIS_URL: redisUrl,
      MYSQL_HOST: '127.0.0.1',
      MYSQL_PORT: String(mariadb.port),
      MYSQL_USER: 'simorgh_ro',
      MYSQL_PASSWORD: password,
      MYSQL_DATABASE: database,
      JWT_SECRET_KEY: jwtSecret,
      DATABASE_URL: postgres.url(),
      OPENAI_BASE_URL: llm.url,
      OPENAI_MODEL: 'bench-model',
      MESSAGES_PER_MINUTE: '10000',
      CONCURRENT_STREAMS: '100',
      // The load runs create chats as fast as they can, as a few users.
      CHATS_PER_MINUTE: '100000',
      MAX_CHATS_PER_USER: '10000000',
      // Runs the archive pass (POST /api/admin/archive/run) for the history figures.
      ADMIN_USERS: BENCH_ADMIN,
    };
    const api = await startApiProcess({ logFile: join(root, 'api.log'), env: apiEnv });
    cleanups.push(() => api.stop());
    const compared = options.compareServer ? await startApiProcess({ logFile: join(root, 'api-compared.log'), env: apiEnv, server: options.compareServer }) : null;
    if (compared) cleanups.push(() => compared.stop());
    const nginx = await startNginx({ upstreamPorts: [api.port] });
    cleanups.push(() => nginx.stop());

    const baseline = await startNodeScript('baseline-server.ts', cleanups);
    return { redis, mariadb, postgres, llm, api, compared, nginx, baselineUrl: baseline.url, jwtSecret, redisUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
