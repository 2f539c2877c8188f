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
/** Commands waiting on a frozen Redis are capped; beyond this they fail at once. */
const MAX_QUEUED_COMMANDS = 2000;
/** Client methods that manage the connection itself and must not get the per-command deadline. */
const NO_DEADLINE = new Set<PropertyKey>(['connect', 'close', 'destroy', 'quit', 'disconnect', 'QUIT']);

export type RedisClient = RedisClientType;

export function createRedisClient(url: string, database: number, logger: Logger, name: string): RedisClient {
  // The DB comes from `database` alone: a DB number in the URL would override it.
  const server = new URL(url);
  server.pathname = '';
  const client = createClient({
    url: server.toString(),
    database,
    // A stopped or dead Redis must fail requests at once, not queue them without bound.
    RESP: 2,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    // Only bounds the wait before a command is written; withDeadline bounds the reply.
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
  return withDeadline(client, REDIS_COMMAND_TIMEOUT_MS);
}

/**
 * node-redis stops timing a command once it is written to the socket, so a frozen Redis
 * (alive TCP connection, no replies) would hang requests forever. Every command promise
 * is raced against a deadline; a late reply is simply dropped when it finally arrives.
 */
function withDeadline(client: RedisClient, ms: number): RedisClient {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || NO_DEADLINE.has(property)) return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        result.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), ms);
        });
        return Promise.race([result, deadline]).finally(() => clearTimeout(timer));
      };
    },
  });
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
  if (typeof message === 'string' && (message.startsWith('LOADING') || message === 'The queue is full')) return true;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}
