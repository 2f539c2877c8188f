import {
  createClient,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  SocketClosedUnexpectedlyError,
  TimeoutError,
  type RedisClientType,
} from 'redis';
import type { Logger } from './logger.js';

/** How long one Redis command may take before the request fails with 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

export type RedisClient = RedisClientType;

export function createRedisClient(url: string, database: number, logger: Logger, name: string): RedisClient {
  const client = createClient({
    url,
    database,
    // A stopped or dead Redis must fail requests at once, not queue them without bound.
    RESP: 2,
    disableOfflineQueue: true,
    commandOptions: { timeout: REDIS_COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: 2000,
      // Keep retrying forever, at most every 2 s, so the API recovers by itself.
      reconnectStrategy: (retries) => Math.min(100 + retries * 200, 2000),
    },
  });
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    // The client emits one error per failed reconnect; log at most every 10 s.
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    logger.warn({ err: { message: error.message, name: error.name }, redis: name }, 'redis connection problem');
  });
  return client;
}

/**
 * Runs a Lua script atomically. Scripts are how this API writes several keys together:
 * unlike MULTI, EVAL honours the command timeout and the disabled offline queue, so a
 * stopped Redis fails fast instead of hanging the request.
 */
export async function evalScript(client: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
  return client.eval(script, { keys, arguments: args });
}

/** True for errors meaning "Redis is unreachable or too slow right now" (→ 503). */
export function isRedisUnavailable(error: unknown): boolean {
  if (
    error instanceof ClientOfflineError ||
    error instanceof ClientClosedError ||
    error instanceof TimeoutError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketClosedUnexpectedlyError
  ) {
    return true;
  }
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // LOADING: a restarted Redis replays its AOF before it answers.
  if (typeof message === 'string' && message.startsWith('LOADING')) return true;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}
