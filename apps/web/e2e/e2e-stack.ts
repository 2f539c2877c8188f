import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startFakeLlm,
  type FakeLlm,
  createReadOnlyUser,
  loadTpms,
  startMariaDb,
  startPostgres,
  startRedisServer,
  startNginx,
  type NginxServer,
} from '@simorgh/devstack';
import { startApiProcess, type ApiProcess } from '@simorgh/devstack/api-process';
import { ADMIN_USERS, TEST_TPMS } from '@simorgh/devstack/fixtures';
import { copyBuiltWebApp } from './web-dist.js';

/** Reply tokens arrive this far apart, so a reply takes about a second to stream in. */
export const TOKEN_DELAY_MS = 20;
/**
 * Titles take this long, well after the reply has finished streaming but within the time the
 * API keeps the stream open for them, so the title reaches the page live, on its own.
 */
export const TITLE_DELAY_MS = 2500;

type Stoppable = { stop(): Promise<void> };

async function startAll<T extends readonly Promise<Stoppable>[]>(
  cleanups: Array<() => Promise<void>>,
  starting: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(starting);
  for (const result of results) if (result.status === 'fulfilled') cleanups.push(() => result.value.stop());
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/**
 * Every title the local model gives. It differs from the API's own fallback (the message's first
 * words), so a title on screen proves the model's title travelled all the way to the page.
 */
export const MODEL_TITLE = 'Fan vibration limits for cooling towers';

export type E2eStack = {
  /** The nginx address the browser uses, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The Redis the API uses (redis://host:port), for data only an old or long-lived system holds. */
  redisUrl: string;
  llm: FakeLlm;
  api: ApiProcess;
  nginx: NginxServer;
  /** Adds or deletes a TPMS draft_permission row, as a change in the company's directory would. */
  setPermission(projectId: number, userId: string, allowed: boolean): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Everything the web app talks to, on loopback and in temporary directories: redis-server,
 * mariadbd with the TPMS fixtures, PostgreSQL for the history, the local OpenAI-compatible server, the API as its own
 * process, and the real nginx with the repository's nginx.conf serving the built web app.
 */
export async function startE2eStack(options: { apiLogFile: string }): Promise<E2eStack> {
  const root = mkdtempSync(join(tmpdir(), 'simorgh-e2e-'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(root, { recursive: true, force: true })];
  const stop = async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        // Keep stopping the rest; report at the end.
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'some e2e services did not stop cleanly');
  };

  try {
    const webRoot = copyBuiltWebApp();
    cleanups.push(async () => rmSync(webRoot, { recursive: true, force: true }));

    // Started side by side; every one that came up is stopped again even if another failed.
    const [redis, mariadb, postgres, llm] = await startAll(cleanups, [
      startRedisServer({ dataDir: join(root, 'redis') }),
      startMariaDb({ dataDir: join(root, 'mysql') }),
      startPostgres({ dataDir: join(root, 'postgres'), durable: false }),
      startFakeLlm({
        tokenDelayMs: TOKEN_DELAY_MS,
        slowDelayMs: TITLE_DELAY_MS,
        mode: 'normal',
        titleMode: 'slow',
        titleReply: MODEL_TITLE,
      }),
    ] as const);

    const database = 'tpms';
    const sqlUser = 'simorgh_ro';
    const sqlPassword = randomBytes(12).toString('hex');
    const admin = await mariadb.adminConnection();
    try {
      await loadTpms(admin, database, TEST_TPMS);
      await createReadOnlyUser(admin, database, sqlUser, sqlPassword);
    } finally {
      await admin.end();
    }

    const api = await startApiProcess({
      logFile: options.apiLogFile,
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        REDIS_URL: `${redis.url}/0`,
        MYSQL_HOST: '127.0.0.1',
        MYSQL_PORT: String(mariadb.port),
        MYSQL_USER: sqlUser,
        MYSQL_PASSWORD: sqlPassword,
        MYSQL_DATABASE: database,
        JWT_SECRET_KEY: randomBytes(32).toString('hex'),
        DATABASE_URL: postgres.url(),
        OPENAI_BASE_URL: llm.url,
        OPENAI_MODEL: 'simorgh-e2e',
        ADMIN_USERS,
      },
    });
    cleanups.push(() => api.stop());

    const nginx = await startNginx({ upstreamPorts: [api.port], webRoot });
    cleanups.push(() => nginx.stop());

    const setPermission = async (projectId: number, userId: string, allowed: boolean) => {
      const connection = await mariadb.adminConnection(database);
      try {
        if (allowed) await connection.execute('INSERT IGNORE INTO draft_permission (project_ID, user) VALUES (?, ?)', [projectId, userId]);
        else await connection.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [projectId, userId]);
      } finally {
        await connection.end();
      }
    };

    return { url: nginx.url, redisUrl: redis.url, llm, api, nginx, setPermission, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
