import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql, type LogEvent, type PostgresCursor, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Env } from './env.js';

/** Connecting and each statement give up after this, so a stopped PostgreSQL fails fast. */
const CONNECT_TIMEOUT_MS = 2000;
const STATEMENT_TIMEOUT_MS = 10_000;

export type HistoryDb = { pool: pg.Pool; db: Kysely<unknown> };

/** What a statement's text begins with when prepared() marks it (a comment: the text stays the same SQL). */
const PREPARED = '/* prepared */ ';

/**
 * Marks a statement to be sent as a named (prepared) one, named by a hash of its text: each of the
 * pool's sessions parses and analyzes it once, then binds and runs it (search's statements: 7–13 %
 * of PostgreSQL's CPU per search, docs/performance.md). Such a session still plans every named
 * statement for each execution's values (plan_cache_mode = force_custom_plan): a generic plan,
 * made once for any values, estimates every user and word alike, and search chooses its paths
 * by those estimates (docs/decisions/search.md). Every value goes in as a parameter, never into
 * the text: each session keeps every text it has seen. Outside a transaction only: the session is
 * set with its first named statement, and a transaction rolled back would undo the setting.
 */
export function prepared<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(PREPARED)}${statement}`;
}

/**
 * A pool client as Kysely's dialect uses it, sending the statements prepared() marks as named
 * ones, after setting its session to plan them for each execution (once).
 */
class PreparingClient implements PostgresPoolClient {
  #plansEachExecution = false;
  constructor(readonly client: pg.PoolClient) {}

  query<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(statement: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof statement !== 'string') return this.client.query(statement as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    const values = [...parameters];
    const result = statement.startsWith(PREPARED) ? this.#named(statement, values) : this.client.query(statement, values);
    return result as Promise<unknown> as Promise<PostgresQueryResult<R>>;
  }

  async #named(text: string, values: unknown[]): Promise<pg.QueryResult> {
    if (!this.#plansEachExecution) {
      await this.client.query('SET plan_cache_mode = force_custom_plan');
      this.#plansEachExecution = true;
    }
    const name = createHash('sha1').update(text).digest('base64url');
    return this.client.query({ name, text, values });
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }
}

/** The pool for Kysely, each client of `pool` always behind the same PreparingClient (it knows what its session was told). */
function preparingPool(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PreparingClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let preparing = clients.get(client);
      if (!preparing) {
        preparing = new PreparingClient(client);
        clients.set(client, preparing);
      }
      return preparing;
    },
    end: () => pool.end(),
  };
}

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
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), ...log }) };
}
