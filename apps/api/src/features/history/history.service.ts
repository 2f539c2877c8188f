/**
 * The history feature for other features: how far the PostgreSQL mirror is behind, for health.
 * The mirror itself (history-mirror.ts) is started by server.ts and the test harness.
 */
import type { HistoryHealth } from '@simorgh/contracts';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { RedisClient } from '../../redis.js';
import { OUTBOX_KEY } from './history.scripts.js';

/** Beyond this the mirror counts as behind: health says degraded. */
export const HISTORY_LAG_DEGRADED_MS = 60_000;

export type HistoryCheckDeps = { chat: RedisClient; db: Kysely<unknown>; timeoutMs: number };

/** How old (ms) the oldest unmirrored change is, and how many there are. */
export async function outboxBacklog(chat: RedisClient): Promise<{ backlog: number; lagMs: number }> {
  const [length, oldest] = await Promise.all([
    chat.xLen(OUTBOX_KEY),
    chat.sendCommand(['XRANGE', OUTBOX_KEY, '-', '+', 'COUNT', '1']) as Promise<Array<[string, string[]]>>,
  ]);
  const firstId = oldest[0]?.[0];
  const lagMs = firstId ? Math.max(0, Date.now() - Number(firstId.split('-')[0])) : 0;
  return { backlog: Number(length), lagMs };
}

/**
 * PostgreSQL unreachable → unhealthy; reachable but the mirror more than a minute behind →
 * degraded. Either way chatting goes on: the caller reports the whole as degraded, not down.
 */
export async function checkHistory(deps: HistoryCheckDeps): Promise<HistoryHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deps.timeoutMs} ms`)), deps.timeoutMs);
  });
  try {
    const [pgResult, outbox] = await Promise.allSettled([Promise.race([sql`SELECT 1`.execute(deps.db), timeout]), Promise.race([outboxBacklog(deps.chat), timeout])]);
    const latency = Math.round(performance.now() - started);
    const lag = outbox.status === 'fulfilled' ? { lag_ms: outbox.value.lagMs, backlog: outbox.value.backlog } : {};
    if (pgResult.status === 'rejected') {
      const reason: unknown = pgResult.reason;
      return { status: 'unhealthy', detail: reason instanceof Error ? reason.message.slice(0, 200) : 'unreachable', ...lag };
    }
    if (outbox.status === 'fulfilled' && outbox.value.lagMs > HISTORY_LAG_DEGRADED_MS) {
      return { status: 'degraded', latency_ms: latency, detail: 'the mirror to PostgreSQL is behind', ...lag };
    }
    return { status: 'healthy', latency_ms: latency, ...lag };
  } finally {
    clearTimeout(timer);
  }
}

export { isHistoryUnavailable, queryUsage, type UsageReportQuery } from './usage-report.js';
