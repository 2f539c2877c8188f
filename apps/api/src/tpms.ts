import mysql from 'mysql2/promise';
import type { Env } from './env.js';
import { AppError } from './http/app-error.js';

export type TpmsPool = mysql.Pool;

/** Per-query limit; connecting is bounded separately by connectTimeout. */
export const TPMS_QUERY_TIMEOUT_MS = 2500;
/** Hard ceiling for one lookup, including waiting for a pooled connection. */
const TPMS_DEADLINE_MS = 4000;

export const tpmsUnavailable = () =>
  new AppError('upstream_unavailable', 'Project directory unavailable, try again shortly');

/**
 * A bounded pool: an unreachable TPMS must turn into a 503 within a few seconds, and a
 * burst of requests must not pile up connections or waiters without limit.
 */
export function createTpmsPool(env: Env, observe?: QueryObserver): TpmsPool | null {
  if (!env.MYSQL_HOST) return null;
  const pool = mysql.createPool({
    host: env.MYSQL_HOST,
    port: env.MYSQL_PORT,
    user: env.MYSQL_USER,
    password: env.MYSQL_PASSWORD,
    database: env.MYSQL_DATABASE,
    connectionLimit: env.MYSQL_CONNECTION_LIMIT,
    queueLimit: env.MYSQL_CONNECTION_LIMIT * 10,
    waitForConnections: true,
    connectTimeout: 2000,
    idleTimeout: 60_000,
    maxIdle: Math.min(env.MYSQL_CONNECTION_LIMIT, 4),
    enableKeepAlive: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  if (observe) observers.set(pool, observe);
  return pool;
}

/** Seconds of one lookup, waiting for a connection included, and whether it answered. */
export type QueryObserver = (seconds: number, outcome: 'ok' | 'failed') => void;
const observers = new WeakMap<TpmsPool, QueryObserver>();

/**
 * Runs one parameterized read with execute(). Any failure (refused, timed out, pool queue
 * full, SQL error) becomes upstream_unavailable: an outage must never look like 403/404.
 */
export async function tpmsRows<T>(pool: TpmsPool | null, sql: string, params: Array<string | number>): Promise<T[]> {
  if (!pool) throw tpmsUnavailable();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('TPMS deadline exceeded')), TPMS_DEADLINE_MS);
  });
  const observe = observers.get(pool);
  const start = observe ? performance.now() : 0;
  try {
    const [rows] = await Promise.race([pool.execute({ sql, timeout: TPMS_QUERY_TIMEOUT_MS }, params), deadline]);
    observe?.((performance.now() - start) / 1000, 'ok');
    return rows as T[];
  } catch (error) {
    observe?.((performance.now() - start) / 1000, 'failed');
    throw Object.assign(tpmsUnavailable(), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
