import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import mysql from 'mysql2/promise';
import pg from 'pg';
import request from 'supertest';
import {
  ArchiveRunResponseSchema,
  ChatResponseSchema,
  CreateChatResponseSchema,
  ListChatsResponseSchema,
  ListMessagesResponseSchema,
  MESSAGES_PAGE_MAX,
  type ArchiveRunRequest,
  type ArchiveRunResponse,
  type ChatMetadata,
  type Message,
} from '@simorgh/contracts';
import { inject } from 'vitest';
import { createApp, type CreateAppOptions } from '../app.js';
import { buildDeps, closeDeps, type Clock, type Deps } from '../deps.js';
import { loadEnv, type Env } from '../env.js';
import { createTokenService } from '../features/auth/tokens.js';
import { createOutboxClient, startHistoryMirror } from '../features/history/history-mirror.js';
import { OUTBOX_KEY } from '../features/history/history.scripts.js';
import { createLogger } from '../logger.js';
import { createReadOnlyUser, loadTpms, startRedisSentinelSet, startRedisServer, type RedisSentinelSet, type RedisServer, type TpmsData } from '@simorgh/devstack';
import { ADMIN_USERS, TEST_TPMS } from '@simorgh/devstack/fixtures';
import { eventually } from './event-stream-client.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** A clock tests can move; starts at `start`. */
export function manualClock(start: Date | string): Clock & { set(date: Date | string): void; advance(ms: number): void } {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set: (date) => {
      current = new Date(date);
    },
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
    },
  };
}

export type StackOptions = {
  clock?: Clock;
  /** Extra or overriding environment variables (strings, as in process.env). */
  env?: Record<string, string | undefined>;
  /** Build the default app/deps with these; more apps can be made with `stack.build()`. */
  appOptions?: CreateAppOptions;
  /** Set LLM base URL for the messages feature (OPENAI_BASE_URL). */
  llmBaseUrl?: string;
  /** TPMS contents for this file's database; the shared fixtures by default. */
  tpms?: TpmsData;
  /** false: no history mirror runs in this app's process (the outbox then only fills). */
  mirror?: boolean;
  /** Redis as a master with two replicas and three sentinels; the apps find it through the sentinels. */
  sentinels?: { downAfterMs?: number; failoverTimeoutMs?: number };
};

export type TestStack = {
  /** The Redis server (with `sentinels`: the master at start). */
  redis: RedisServer;
  /** With `sentinels`: the whole set (servers, sentinel addresses, the current master). */
  sentinelSet: RedisSentinelSet | null;
  env: Env;
  deps: Deps;
  app: Express;
  /** supertest agent on `app`. */
  http: () => ReturnType<typeof request>;
  database: string;
  /** This file's PostgreSQL database (DATABASE_URL of every app it builds). */
  postgresUrl: string;
  /** Runs a query on this file's PostgreSQL database. */
  sql: <R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;
  /** A root connection to this file's TPMS database (to change fixtures during a test). */
  tpmsAdmin: () => Promise<mysql.Connection>;
  /** Signs a valid token for a user (any name; it need not exist in TPMS). */
  tokenFor: (userId: string, displayName?: string) => Promise<string>;
  /** `Authorization` header value for a user. */
  bearer: (userId: string) => Promise<string>;
  /** Creates a session through the API as `userId`; throws unless it answers 201. */
  createChat: (userId: string, body?: Record<string, unknown>, app?: Express) => Promise<ChatMetadata>;
  /** A session's metadata as `userId` sees it; throws unless it answers 200. */
  chatOf: (userId: string, chatId: string) => Promise<ChatMetadata>;
  /** All of a session's messages as `userId` sees them, every page; throws unless each answers 200. */
  messagesOf: (userId: string, chatId: string) => Promise<Message[]>;
  /** `userId`'s chat list, every status, up to 100 (through `app` if given); throws unless it answers 200. */
  chatsOf: (userId: string, app?: Express) => Promise<ChatMetadata[]>;
  /** Waits until the history outbox is empty: every change so far is in PostgreSQL. */
  drained: (timeoutMs?: number) => Promise<void>;
  /** One archive pass (POST /api/admin/archive/run as an administrator); throws unless it answers 200. */
  runArchive: (body?: ArchiveRunRequest) => Promise<ArchiveRunResponse>;
  /**
   * The environment for an API process of its own (startApiProcess) on this stack's Redis,
   * TPMS database and PostgreSQL database, in production mode; `extra` adds or overrides.
   */
  processEnv: (extra?: Record<string, string | undefined>) => Record<string, string | undefined>;
  /** Another deps/app on the same Redis (and TPMS unless overridden); closed by stop(). */
  build: (options?: StackOptions) => Promise<{ env: Env; deps: Deps; app: Express }>;
  stop: () => Promise<void>;
};

/**
 * Per test file: its own redis-server (so fault tests can stop or kill it), its own TPMS
 * database and read-only SQL user on the shared MariaDB, real deps and the real app.
 */
export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const { port: mariadbPort, socketPath } = inject('mariadb');
  const { port: postgresPort } = inject('postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'simorgh-test-redis-'));
  const sentinelSet = options.sentinels ? await startRedisSentinelSet({ dataDir, ...options.sentinels }) : null;
  const redis = sentinelSet?.servers[0] ?? (await startRedisServer({ dataDir }));
  const suffix = randomBytes(5).toString('hex');
  const database = `tpms_${suffix}`;
  const sqlUser = `ro_${suffix}`;
  const sqlPassword = randomBytes(12).toString('hex');

  const admin = () => mysql.createConnection({ socketPath, user: 'root', multipleStatements: true });
  const setup = await admin();
  try {
    await loadTpms(setup, database, options.tpms ?? TEST_TPMS);
    await createReadOnlyUser(setup, database, sqlUser, sqlPassword);
  } finally {
    await setup.end();
  }

  const postgresAdminUrl = `postgres://postgres@127.0.0.1:${postgresPort}/postgres`;
  const postgresUrl = `postgres://postgres@127.0.0.1:${postgresPort}/history_${suffix}`;
  const postgresAdmin = async (statement: string) => {
    const client = new pg.Client({ connectionString: postgresAdminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await postgresAdmin(`CREATE DATABASE history_${suffix}`);
  const sqlPool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  // stop() drops the database WITH (FORCE) right after end(): a connection still closing is then
  // terminated by the server, which the pool reports here (without a listener, an uncaught error).
  sqlPool.on('error', () => undefined);

  const baseEnv: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL: `${redis.url}/0`,
    REDIS_CHAT_DB: '1',
    REDIS_CACHE_DB: '2',
    ...(sentinelSet ? { REDIS_SENTINELS: sentinelSet.sentinels, REDIS_SENTINEL_MASTER: sentinelSet.masterName } : {}),
    MYSQL_HOST: '127.0.0.1',
    MYSQL_PORT: String(mariadbPort),
    MYSQL_USER: sqlUser,
    MYSQL_PASSWORD: sqlPassword,
    MYSQL_DATABASE: database,
    MYSQL_CONNECTION_LIMIT: '10',
    JWT_SECRET_KEY: TEST_JWT_SECRET,
    ADMIN_USERS,
    DATABASE_URL: postgresUrl,
    // Tests set chats up in bursts, often on a frozen clock; the tests of this limit set their own.
    CHATS_PER_MINUTE: '100000',
  };
  const built: Deps[] = [];

  async function build(buildOptions: StackOptions = {}) {
    const env = loadEnv({
      ...baseEnv,
      ...(buildOptions.llmBaseUrl ? { OPENAI_BASE_URL: buildOptions.llmBaseUrl, OPENAI_MODEL: 'fake-model' } : {}),
      ...buildOptions.env,
    });
    const deps = await buildDeps(env, {
      ...(buildOptions.clock ? { clock: buildOptions.clock } : {}),
      logger: createLogger(env),
    });
    built.push(deps);
    if (buildOptions.mirror !== false) {
      // On this thread (the API process runs it in a worker, mirror-worker.ts): tests reach into it.
      const outbox = createOutboxClient(env, deps.logger);
      await outbox.connect();
      const mirror = startHistoryMirror({ redis: outbox, db: deps.history.db, logger: deps.logger, claimIdleMs: env.HISTORY_CLAIM_IDLE_MS });
      deps.background.push({
        stop: async () => {
          await mirror.stop();
          outbox.destroy();
        },
      });
      await mirror.migrated;
    }
    return { env, deps, app: createApp(deps, buildOptions.appOptions) };
  }

  const main = await build(options);
  const tokens = createTokenService(TEST_JWT_SECRET, 3600, () => main.deps.clock.now());
  const tokenFor = async (userId: string, displayName = userId) => (await tokens.sign(userId, displayName)).token;

  const expectOk = (response: request.Response, status: number, what: string) => {
    if (response.status !== status) {
      throw new Error(`${what} answered ${response.status}, not ${status}: ${JSON.stringify(response.body)}`);
    }
    return response.body as unknown;
  };

  return {
    redis,
    sentinelSet,
    env: main.env,
    deps: main.deps,
    app: main.app,
    http: () => request(main.app),
    database,
    postgresUrl,
    sql: async (text, values) => (await sqlPool.query(text, values)).rows,
    tpmsAdmin: async () => {
      const connection = await admin();
      await connection.query(`USE \`${database}\``);
      return connection;
    },
    tokenFor,
    bearer: async (userId) => `Bearer ${await tokenFor(userId)}`,
    createChat: async (userId, body = { chat_type: 'general' }, app = main.app) => {
      const response = await request(app).post('/api/chats').set('Authorization', `Bearer ${await tokenFor(userId)}`).send(body);
      return CreateChatResponseSchema.parse(expectOk(response, 201, 'POST /api/chats')).chat;
    },
    chatOf: async (userId, chatId) => {
      const response = await request(main.app).get(`/api/chats/${chatId}`).set('Authorization', `Bearer ${await tokenFor(userId)}`);
      return ChatResponseSchema.parse(expectOk(response, 200, `GET /api/chats/${chatId}`)).chat;
    },
    messagesOf: async (userId, chatId) => {
      const authorization = `Bearer ${await tokenFor(userId)}`;
      const pages: Message[][] = [];
      let before: string | null = null;
      do {
        const response = await request(main.app)
          .get(`/api/chats/${chatId}/messages`)
          .query({ limit: MESSAGES_PAGE_MAX, ...(before === null ? {} : { before }) })
          .set('Authorization', authorization);
        const page = ListMessagesResponseSchema.parse(expectOk(response, 200, `GET /api/chats/${chatId}/messages`));
        pages.unshift(page.messages);
        before = page.next_before;
      } while (before !== null);
      return pages.flat();
    },
    chatsOf: async (userId, app = main.app) => {
      const response = await request(app).get('/api/chats').query({ status: 'all', limit: 100 }).set('Authorization', `Bearer ${await tokenFor(userId)}`);
      return ListChatsResponseSchema.parse(expectOk(response, 200, 'GET /api/chats')).chats;
    },
    drained: async (timeoutMs = 10_000) => {
      await eventually(async () => (await main.deps.redis.chat.xLen(OUTBOX_KEY)) === 0, timeoutMs);
    },
    runArchive: async (body = { idle_days: 0 }) => {
      const response = await request(main.app).post('/api/admin/archive/run').set('Authorization', `Bearer ${await tokenFor(ADMIN_USERS)}`).send(body);
      return ArchiveRunResponseSchema.parse(expectOk(response, 200, 'POST /api/admin/archive/run'));
    },
    processEnv: (extra = {}) => {
      const { NODE_ENV: _test, LOG_LEVEL: _silent, CHATS_PER_MINUTE: _unbounded, ADMIN_USERS: _admins, ...shared } = baseEnv;
      return { ...shared, NODE_ENV: 'production', LOG_LEVEL: 'info', ...extra };
    },
    build,
    stop: async () => {
      await Promise.allSettled(built.map((deps) => closeDeps(deps)));
      await sqlPool.end();
      await postgresAdmin(`DROP DATABASE IF EXISTS history_${suffix} WITH (FORCE)`);
      await (sentinelSet ?? redis).stop();
      rmSync(dataDir, { recursive: true, force: true });
      const cleanup = await admin();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS \`${database}\``);
        await cleanup.query(`DROP USER IF EXISTS '${sqlUser}'@'%'`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
