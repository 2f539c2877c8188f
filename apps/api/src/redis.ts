import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createClient,
  createSentinel,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  SocketClosedUnexpectedlyError,
  TimeoutError,
  type RedisClientType,
  type RedisSentinelType,
} from 'redis';
import type { Env } from './env.js';
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

type RedisNode = { host: string; port: number };

/**
 * Where Redis is: one server (REDIS_URL), or a master found through sentinels
 * (REDIS_SENTINELS + REDIS_SENTINEL_MASTER). Either way the DB numbers come from the caller.
 */
export type RedisTarget = {
  /** redis://host:port of the single server; unused with sentinels. */
  url: string;
  sentinels: RedisNode[];
  master: string | undefined;
  username: string | undefined;
  password: string | undefined;
  sentinelPassword: string | undefined;
};

export function redisTargetOf(env: Env): RedisTarget {
  return {
    ...redisTargetAt(env.REDIS_URL, env.REDIS_PASSWORD),
    sentinels: env.REDIS_SENTINELS,
    master: env.REDIS_SENTINEL_MASTER,
    sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
  };
}

/** A single server at a redis:// URL (tools and benches); `password` overrides the URL's. */
export function redisTargetAt(redisUrl: string, password?: string): RedisTarget {
  const url = new URL(redisUrl);
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const urlPassword = url.password === '' ? undefined : decodeURIComponent(url.password);
  // Credentials and the DB travel as options: a DB number in the URL would override the client's.
  url.username = '';
  url.password = '';
  url.pathname = '';
  return { url: url.toString(), sentinels: [], master: undefined, username, password: password ?? urlPassword, sentinelPassword: undefined };
}

const CLIENT_OPTIONS = {
  // A stopped or dead Redis must fail requests at once, not queue them without bound.
  RESP: 2,
  disableOfflineQueue: true,
  // No `commandOptions.timeout`: it arms an AbortSignal timer per command that fires even
  // after the reply; withDeadline bounds the whole command instead, at a fraction of the cost.
  commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
  socket: {
    connectTimeout: 2000,
    // Keep retrying forever, at most every 2 s, so the API recovers by itself.
    reconnectStrategy: (retries: number) => Math.min(100 + retries * 200, 2000),
  },
} as const;

/**
 * The one way to get a Redis connection (several with sentinels: a pool of one to the master
 * that follows failovers). Callers never learn whether sentinels are used.
 * `commandTimeoutMs`: the per-command deadline.
 */
export function createRedisClient(target: RedisTarget, database: number, logger: Logger, name: string, commandTimeoutMs = REDIS_COMMAND_TIMEOUT_MS): RedisClient {
  let lastLogged = 0;
  const onError = (error: Error | string) => {
    // The client emits one error per failed reconnect; log at most every 10 s.
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    const err = typeof error === 'string' ? { message: error } : { message: error.message, name: error.name };
    logger.warn({ err, redis: name }, 'redis connection problem');
  };
  const credentials = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
  if (target.sentinels.length === 0) {
    const client = createClient({ ...CLIENT_OPTIONS, url: target.url, database, ...credentials });
    client.on('error', onError);
    return withDeadline(client, commandTimeoutMs);
  }
  const sentinel = createSentinel({
    name: target.master ?? '',
    sentinelRootNodes: target.sentinels,
    RESP: 2,
    nodeClientOptions: { ...CLIENT_OPTIONS, database, ...credentials },
    sentinelClientOptions: { socket: { connectTimeout: 2000 }, ...(target.sentinelPassword ? { password: target.sentinelPassword } : {}) },
    // A command that failed on a master that went away is not sent again to the next master:
    // it may have run already, and its caller has had its 503.
    maxCommandRediscovers: 0,
  });
  sentinel.on('error', onError);
  sentinel.on('topology-change', (event: { type: string; node?: RedisNode }) => {
    if (event.type === 'MASTER_CHANGE') logger.info({ redis: name, master: event.node && `${event.node.host}:${event.node.port}` }, 'redis master found through the sentinels');
  });
  const client = withDeadline(asClient(sentinel as unknown as RedisSentinelType), commandTimeoutMs);
  sentinelBacked.add(client);
  return client;
}

/**
 * A connection of its own for blocking reads (XREADGROUP / XREAD with BLOCK): a block holds
 * the connection, so it is never shared. `blockMs` is the longest block it is used for; its
 * deadline allows for it.
 */
export function createBlockingClient(target: RedisTarget, database: number, logger: Logger, name: string, blockMs: number): RedisClient {
  return createRedisClient(target, database, logger, name, blockMs + 4000);
}

const sentinelBacked = new WeakSet<object>();

/**
 * Gives a sentinel pool the client methods this API uses, so the rest of the code has one
 * client type: `sendCommand(args)` goes to the master, `scanIterator` walks SCAN on it, and
 * `connect` keeps retrying until the sentinels name a reachable master (as a single client
 * does at start-up). Commands, MULTI and pub/sub are the pool's own.
 */
function asClient(sentinel: RedisSentinelType): RedisClient {
  const extra: Record<PropertyKey, unknown> = {
    sendCommand: (args: string[], options?: object) => sentinel.sendCommand(undefined, args, options),
    scanIterator: async function* (options: { MATCH?: string; COUNT?: number; TYPE?: string }) {
      let cursor = '0';
      do {
        const reply = await sentinel.scan(cursor, options);
        cursor = reply.cursor;
        yield reply.keys;
      } while (cursor !== '0');
    },
    connect: async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await sentinel.connect();
          return;
        } catch {
          // A failed first connect leaves the pool half open; destroy resets it for the next try.
          await sentinel.destroy();
          await sleep(Math.min(200 + attempt * 200, 2000));
        }
      }
    },
    masterNode: () => sentinel.getMasterNode(),
  };
  const adapted = new Proxy(sentinel, {
    get(target, property) {
      if (Object.hasOwn(extra, property)) return extra[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return adapted as unknown as RedisClient;
}

/** "host:port" of the master a client talks to: the one the sentinels named last, or REDIS_URL's. */
export function redisServerOf(client: RedisClient): string | null {
  const node = (client as unknown as { masterNode?: () => RedisNode | undefined }).masterNode?.();
  if (node) return `${node.host}:${node.port}`;
  const socket = client.options?.socket as { host?: string; port?: number } | undefined;
  return socket?.host ? `${socket.host}:${socket.port ?? 6379}` : null;
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
  deadlines.set(proxy, ms);
  return proxy;
}

type CommandTiming = { observe?: (seconds: number) => void };
const timings = new WeakMap<RedisClient, CommandTiming>();
const deadlines = new WeakMap<RedisClient, number>();

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

export type ReplicaAcks = { replicas: number; timeoutMs: number };

/** What a user is told when the replicas did not confirm a write (the one error body's detail). */
export const REPLICA_ACK_DETAIL =
  'Saved, but no Redis replica confirmed it in time, so it could be lost if Redis fails over now; reload and check before you retry.';

/** Fewer replicas than required confirmed a write in time; the write itself may well be on the master. */
export class ReplicaAckError extends Error {
  constructor(
    readonly confirmed: number,
    readonly required: number,
  ) {
    super(`only ${confirmed} of ${required} Redis replicas confirmed the write in time`);
    this.name = 'ReplicaAckError';
  }
}

const ackSettings = new WeakMap<RedisClient, ReplicaAcks & { via: RedisClient }>();

/**
 * Durable scripts run on `client` (the ones whose answer acknowledges a new chat or a saved
 * message) then wait until `acks.replicas` replicas hold them (WAIT), and `waitForReplicas(client)`
 * waits likewise. WAIT covers the writes of the connection it is sent on and holds that connection
 * meanwhile, so durable scripts run on `via`, a connection of their own: on the shared one a
 * slow replica would hold up every request. Without a call (or with 0 replicas) nothing waits.
 */
export function requireReplicaAcks(client: RedisClient, acks: ReplicaAcks, via: RedisClient = client): void {
  ackSettings.set(client, { ...acks, via });
}

const waitCommand = (acks: ReplicaAcks) => ['WAIT', String(acks.replicas), String(acks.timeoutMs)];

function checkAcks(confirmed: unknown, acks: ReplicaAcks): void {
  if (Number(confirmed) < acks.replicas) throw new ReplicaAckError(Number(confirmed), acks.replicas);
}

/** Waits until the replicas `client` requires hold every write its connection made so far. */
export async function waitForReplicas(client: RedisClient): Promise<void> {
  const acks = ackSettings.get(client);
  if (!acks || acks.replicas === 0) return;
  checkAcks(await client.sendCommand(waitCommand(acks)), acks);
}

/** Sends the commands together on one connection (not a transaction), within the client's deadline. */
async function pipeline(client: RedisClient, commands: string[][]): Promise<unknown[]> {
  const multi = client.multi() as unknown as { addCommand(...args: unknown[]): unknown; execAsPipeline(): Promise<unknown[]> };
  for (const args of commands) {
    if (sentinelBacked.has(client)) multi.addCommand(undefined, args);
    else multi.addCommand(args);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), deadlines.get(client) ?? REDIS_COMMAND_TIMEOUT_MS);
  });
  try {
    return await Promise.race([multi.execAsPipeline(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const scriptShas = new Map<string, string>();
const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * Runs a Lua script atomically. Scripts are how this API writes several keys together:
 * unlike MULTI, EVAL honours the command deadline and the disabled offline queue, so a
 * stopped Redis fails fast instead of hanging the request. Sent by SHA1 (EVALSHA); a Redis
 * that does not know the script yet (first use, restart, a replica just promoted by a failover)
 * answers NOSCRIPT without running anything, and gets the full text once.
 * `durable`: the write is acknowledged to a user; with replica acks required it is followed by
 * WAIT on the same connection (see requireReplicaAcks) and throws ReplicaAckError when short.
 */
export async function evalScript(client: RedisClient, script: string, keys: string[], args: string[], durable = false): Promise<unknown> {
  let sha = scriptShas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    scriptShas.set(script, sha);
  }
  const acks = durable ? ackSettings.get(client) : undefined;
  if (!acks || acks.replicas === 0) {
    try {
      return await client.evalSha(sha, { keys, arguments: args });
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script, { keys, arguments: args });
    }
  }
  const tail = [String(keys.length), ...keys, ...args];
  let replies: unknown[];
  try {
    replies = await pipeline(acks.via, [['EVALSHA', sha, ...tail], waitCommand(acks)]);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    replies = await pipeline(acks.via, [['EVAL', script, ...tail], waitCommand(acks)]);
  }
  checkAcks(replies[1], acks);
  return replies[0];
}

/** True for errors meaning "Redis is unreachable or too slow right now" (→ 503). */
export function isRedisUnavailable(error: unknown): boolean {
  if (
    error instanceof ReplicaAckError ||
    error instanceof ClientOfflineError ||
    error instanceof ClientClosedError ||
    error instanceof TimeoutError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketClosedUnexpectedlyError
  ) {
    return true;
  }
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // LOADING: a restarted Redis replays its AOF before it answers. READONLY / MASTERDOWN: a
  // failover is under way (the server reached is a replica, or lost its master).
  if (typeof message === 'string' && (/^(LOADING|READONLY|MASTERDOWN)\b/.test(message) || message === 'The queue is full')) return true;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}
