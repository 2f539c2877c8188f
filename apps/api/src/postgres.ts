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
 * pool's sessions parses, analyzes and plans it once, then only binds and runs it (search's
 * statements, docs/performance.md). The session keeps one generic plan of each
 * (plan_cache_mode = force_generic_plan): such a plan knows no value, so a statement marked here
 * must not leave to the planner any choice that depends on its values. Search chooses its paths
 * as the statement runs (one-time filters) and fences each path's scans (OFFSET 0), so its plan is
 * the same for every user and word (docs/decisions/search.md); planning it for each search cost
 * more than the rest of a rare word's statement. Every value goes in as a parameter, never into
 * the text: each session keeps every text it has seen. Outside a transaction only: the session is
 * set with its first named statement, and a transaction rolled back would undo the setting.
 */
export function prepared<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(PREPARED)}${statement}`;
}

/**
 * A pool client as Kysely's dialect uses it, sending the statements prepared() marks as named
 * ones, after setting its session (once) to keep one plan of each.
 */
class PreparingClient implements PostgresPoolClient {
  #plansOnce = false;
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
    if (!this.#plansOnce) {
      await this.client.query('SET plan_cache_mode = force_generic_plan');
      this.#plansOnce = true;
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
    // filters), which would still start their workers (docs/decisions/search.md). No JIT: search's
    // kept plans cost above jit_above_cost for branches that never run, and compiling them took
    // ~110 ms a search; no statement of the API runs long enough to gain from it.
    options: '-c max_parallel_workers_per_gather=0 -c jit=off',
  });
  // An idle client whose server went away emits here; without a listener it would crash the process.
  pool.on('error', () => undefined);
  const log = observe ? { log: (event: LogEvent) => observe(event.queryDurationMillis / 1000) } : {};
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), ...log }) };
}
