import type { ServiceHealth } from '@simorgh/contracts';
import { redisDbOf, replicaAcksOf, type Env } from './env.js';
import { createOpenAiClient, llmConfigFromEnv } from './features/llm/llm-client.js';
import { createLlmService, type LlmService } from './features/llm/llm.service.js';
import { HUB_BLOCK_MS } from './features/events/event-hub.js';
import { outboxBacklog } from './features/history/history.service.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createHistoryDb, type HistoryDb } from './postgres.js';
import { createBlockingClient, createRedisClient, observeRedisCommands, REDIS_COMMAND_TIMEOUT_MS, redisTargetOf, requireReplicaAcks, type RedisClient } from './redis.js';
import { createTpmsPool, type TpmsPool } from './tpms.js';

export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

export type Deps = {
  env: Env;
  logger: Logger;
  clock: Clock;
  redis: {
    /** DB of REDIS_URL: session ID counters only. */
    counters: RedisClient;
    /** REDIS_CHAT_DB: chat metadata, per-user indexes, messages. */
    chat: RedisClient;
    /** REDIS_CACHE_DB: TPMS answers, login failure counters, signed-out tokens; safe to flush (flushing forgets sign-outs). */
    cache: RedisClient;
    /** Subscriber-mode connection (pub/sub): stop requests for replies another process streams. */
    events: RedisClient;
    /** REDIS_CHAT_DB: the chat client's durable scripts when replicas must confirm them (WAIT holds the connection). */
    durable: RedisClient;
    /** REDIS_CHAT_DB, for this process's one reader of chat events (event-hub.ts): its XREAD blocks. */
    watch: RedisClient;
  };
  /** PostgreSQL (DATABASE_URL): the durable history. Nothing on a request's path waits for it. */
  history: HistoryDb;
  /** Long-running work (the history mirror), stopped by closeDeps before the clients close. */
  background: Array<{ stop(): Promise<void> }>;
  /** TPMS (project directory and users); null when MYSQL_HOST is unset. */
  tpms: TpmsPool | null;
  /** Replies, titles and the model probe; one instance so health and diagnostics share its cache. */
  llm: LlmService;
  /** This process's metrics (its own registry); exported on /metrics when METRICS_TOKEN is set. */
  metrics: Metrics;
  /** Filled by the LLM feature; health reports not_configured without it. */
  llmHealth?: () => Promise<ServiceHealth>;
};

export type BuildDepsOptions = { clock?: Clock; logger?: Logger };

/** Builds the real clients. Only server.ts and the test harness call this. */
export async function buildDeps(env: Env, options: BuildDepsOptions = {}): Promise<Deps> {
  const logger = options.logger ?? createLogger(env);
  // Through sentinels or not, every client comes from createRedisClient / createBlockingClient.
  const target = redisTargetOf(env);
  const redis = {
    counters: createRedisClient(target, redisDbOf(env.REDIS_URL), logger, 'counters'),
    chat: createRedisClient(target, env.REDIS_CHAT_DB, logger, 'chat'),
    cache: createRedisClient(target, env.REDIS_CACHE_DB, logger, 'cache'),
    events: createRedisClient(target, env.REDIS_CHAT_DB, logger, 'events'),
    durable: createRedisClient(target, env.REDIS_CHAT_DB, logger, 'durable', REDIS_COMMAND_TIMEOUT_MS + env.REDIS_WAIT_TIMEOUT_MS),
    watch: createBlockingClient(target, env.REDIS_CHAT_DB, logger, 'watch', HUB_BLOCK_MS),
  };
  const acks = { replicas: replicaAcksOf(env), timeoutMs: env.REDIS_WAIT_TIMEOUT_MS };
  requireReplicaAcks(redis.chat, acks, redis.durable);
  // Start-up waits for Redis (retrying): the counters must be raised before serving.
  await Promise.all(Object.values(redis).map((client) => client.connect()));
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics({ historyBacklog: () => outboxBacklog(redis.chat) });
  // The request-path clients; events and the mirror's client block by design and would only blur them.
  for (const name of ['counters', 'chat', 'cache'] as const) {
    const histogram = metrics.redisCommand.labels({ client: name });
    observeRedisCommands(redis[name], (seconds) => histogram.observe(seconds));
  }
  const tpmsOk = metrics.tpmsQuery.labels({ outcome: 'ok' });
  const tpmsFailed = metrics.tpmsQuery.labels({ outcome: 'failed' });
  const observeTpms = (seconds: number, outcome: 'ok' | 'failed') => (outcome === 'ok' ? tpmsOk : tpmsFailed).observe(seconds);
  const llmConfig = llmConfigFromEnv(env);
  // The client is the LLM service's alone (null when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set).
  const llm = createLlmService({
    openai: createOpenAiClient(llmConfig),
    config: llmConfig,
    logger,
    now: () => clock.now(),
    onTitleError: (kind) => metrics.titleErrors.inc({ kind }),
  });
  return { env, logger, clock, metrics, redis, history: createHistoryDb(env, (seconds) => metrics.postgresQuery.observe(seconds)), background: [], tpms: createTpmsPool(env, observeTpms), llm, llmHealth: () => llm.health() };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled(deps.background.splice(0).map((work) => work.stop()));
  await Promise.allSettled([
    deps.history.db.destroy(),
    ...Object.values(deps.redis).map(async (client) => {
      if (client.isOpen) client.destroy();
    }),
    deps.tpms?.end(),
  ]);
}
