import { createHash } from 'node:crypto';
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
/** How often overdue commands are failed: a deadline fires between `ms` and `ms` + this. */
const DEADLINE_SWEEP_MS = 50;
/** Client methods that manage the connection itself and must not get the per-command deadline. */
const NO_DEADLINE = new Set<PropertyKey>(['connect', 'close', 'destroy', 'quit', 'disconnect', 'QUIT']);

export type RedisClient = RedisClientType;

/** `commandTimeoutMs`: the per-command deadline; longer for a client that blocks (XREADGROUP BLOCK). */
export function createRedisClient(url: string, database: number, logger: Logger, name: string, commandTimeoutMs = REDIS_COMMAND_TIMEOUT_MS): RedisClient {
  // The DB comes from `database` alone: a DB number in the URL would override it.
  const server = new URL(url);
  server.pathname = '';
  const client = createClient({
    url: server.toString(),
    database,
    // A stopped or dead Redis must fail requests at once, not queue them without bound.
    RESP: 2,
    disableOfflineQueue: true,
    // No `commandOptions.timeout`: it arms an AbortSignal timer per command that fires even
    // after the reply; withDeadline bounds the whole command instead, at a fraction of the cost.
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
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
  return withDeadline(client, commandTimeoutMs);
}

/**
 * node-redis stops timing a command once it is written to the socket, so a frozen Redis
 * (alive TCP connection, no replies) would hang requests forever. Every command gets a
 * deadline; a late reply is simply dropped when it finally arrives. One sweep timer per
 * client serves all commands (a timer per command was a measurable cost under load).
 */
function withDeadline(client: RedisClient, ms: number): RedisClient {
  const timing: CommandTiming = {};
  // Insertion order is deadline order, so a sweep stops at the first command still in time.
  const pending = new Set<{ deadline: number; reject: (error: Error) => void }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = performance.now();
    for (const entry of pending) {
      if (entry.deadline > now) return;
      pending.delete(entry);
      entry.reject(new TimeoutError());
    }
    clearInterval(sweeper);
    sweeper = undefined;
  };
  const wrapped = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const wrap = (method: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
    const result: unknown = method.apply(client, args);
    if (!(result instanceof Promise)) return result;
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const entry = { deadline: start + ms, reject };
      pending.add(entry);
      if (!sweeper) {
        sweeper = setInterval(sweep, DEADLINE_SWEEP_MS);
        sweeper.unref();
      }
      result.then(
        (value: unknown) => {
          pending.delete(entry);
          timing.observe?.((performance.now() - start) / 1000);
          resolve(value);
        },
        (error: unknown) => {
          pending.delete(entry);
          timing.observe?.((performance.now() - start) / 1000);
          reject(error as Error);
        },
      );
    });
  };
  const proxy = new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || NO_DEADLINE.has(property)) return value;
      let method = wrapped.get(property);
      if (!method) {
        method = wrap(value as (...args: unknown[]) => unknown);
        wrapped.set(property, method);
      }
      return method;
    },
  });
  timings.set(proxy, timing);
  return proxy;
}

type CommandTiming = { observe?: (seconds: number) => void };
const timings = new WeakMap<RedisClient, CommandTiming>();

/**
 * Reports each command's duration (seconds, reply or failure) of a client made by
 * createRedisClient: the deadline wrapper every command passes through already reads the clock
 * when it starts, so timing costs one more clock read.
 */
export function observeRedisCommands(client: RedisClient, observe: (seconds: number) => void): void {
  const timing = timings.get(client);
  if (!timing) throw new Error('not a client made by createRedisClient');
  timing.observe = observe;
}

const scriptShas = new Map<string, string>();

/**
 * Runs a Lua script atomically. Scripts are how this API writes several keys together:
 * unlike MULTI, EVAL honours the command deadline and the disabled offline queue, so a
 * stopped Redis fails fast instead of hanging the request. Sent by SHA1 (EVALSHA); a Redis
 * that does not know the script yet (first use, restart) answers NOSCRIPT without running
 * anything, and gets the full text once.
 */
export async function evalScript(client: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
  let sha = scriptShas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    scriptShas.set(script, sha);
  }
  try {
    return await client.evalSha(sha, { keys, arguments: args });
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return client.eval(script, { keys, arguments: args });
  }
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
