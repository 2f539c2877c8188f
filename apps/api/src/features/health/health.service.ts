import type { HealthResponse, ServiceHealth } from '@simorgh/contracts';
import type { Deps } from '../../deps.js';
import { redisServerOf } from '../../redis.js';
import { checkHistory } from '../history/history.service.js';

/** Every check answers within this bound, whatever the dependency does. */
export const HEALTH_CHECK_TIMEOUT_MS = 1500;

async function timed(check: () => Promise<unknown>): Promise<ServiceHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'healthy', latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 'unhealthy', detail: error instanceof Error ? error.message.slice(0, 200) : 'unreachable' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Redis down → unhealthy (nothing works without it); TPMS or LLM down or unconfigured, or
 * PostgreSQL down or the mirror behind → degraded (existing chats still load, chatting goes on).
 */
export async function checkHealth(deps: Deps): Promise<HealthResponse> {
  const { tpms, llmHealth } = deps;
  // Not the blocking connection: the chat events reader's XREAD holds `watch` for up to
  // HUB_BLOCK_MS while anyone follows a chat. (The mirror's, in its thread, shows its failures as lag.)
  const { watch: _eventsRead, ...pinged } = deps.redis;
  const [redisCheck, sqlAuth, llm, history] = await Promise.all([
    timed(() => Promise.all(Object.values(pinged).map((client) => client.ping()))),
    tpms ? timed(() => tpms.execute({ sql: 'SELECT 1', timeout: HEALTH_CHECK_TIMEOUT_MS })) : notConfigured('MYSQL_HOST is not set'),
    llmHealth
      ? llmHealth().catch((error: unknown): ServiceHealth => ({ status: 'unhealthy', detail: String((error as Error)?.message ?? error) }))
      : notConfigured('no LLM configured'),
    checkHistory({ chat: deps.redis.chat, db: deps.history.db, timeoutMs: HEALTH_CHECK_TIMEOUT_MS }),
  ]);
  // With sentinels, which server is the master now (administrators see details only).
  const master = deps.env.REDIS_SENTINELS.length > 0 ? redisServerOf(deps.redis.chat) : null;
  const redis = redisCheck.status === 'healthy' && master ? { ...redisCheck, detail: `master ${master}, found through the sentinels` } : redisCheck;
  const status =
    redis.status !== 'healthy'
      ? 'unhealthy'
      : sqlAuth.status !== 'healthy' || llm.status !== 'healthy' || history.status !== 'healthy'
        ? 'degraded'
        : 'healthy';
  return { status, services: { redis, sql_auth: sqlAuth, llm, history } };
}

function notConfigured(detail: string): Promise<ServiceHealth> {
  return Promise.resolve({ status: 'not_configured', detail });
}
