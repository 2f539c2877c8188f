import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Env } from './env.js';

/** Connecting and each statement give up after this, so a stopped PostgreSQL fails fast. */
const CONNECT_TIMEOUT_MS = 2000;
const STATEMENT_TIMEOUT_MS = 10_000;

export type HistoryDb = { pool: pg.Pool; db: Kysely<unknown> };

/**
 * The PostgreSQL pool of the history (DATABASE_URL). The mirror writes through it; on a request's
 * path only chats moved out of Redis are read from it, each read bounded (history.service.ts).
 */
/** `observe`: each statement's duration in seconds (Kysely measures it; failures included). */
export function createHistoryDb(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>, observe?: (seconds: number) => void): HistoryDb {
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: env.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    // No parallel plans: the API's statements are short, and on a server busy with requests a
    // worker only queues behind them. Search's plan has branches that never run (one-time
    // filters), which would still start their workers (docs/decisions/search.md).
    options: '-c max_parallel_workers_per_gather=0',
  });
  // An idle client whose server went away emits here; without a listener it would crash the process.
  pool.on('error', () => undefined);
  const log = observe ? { log: (event: LogEvent) => observe(event.queryDurationMillis / 1000) } : {};
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }), ...log }) };
}
