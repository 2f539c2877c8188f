import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@simorgh/api/logger';
import { createRedisClient, redisTargetAt } from '@simorgh/api/redis';

/**
 * Waits (up to `maxMs`) until Redis has no RDB save or AOF rewrite running. The load runs write
 * hundreds of thousands of keys, which sets off background saves (a fork writing the whole data
 * set); a latency measurement taken meanwhile would measure that instead of the API.
 */
export async function waitForRedisIdle(redisUrl: string, maxMs = 30_000): Promise<void> {
  const client = createRedisClient(redisTargetAt(redisUrl), 0, createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }), 'bench-idle');
  await client.connect();
  try {
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      const info = await client.info('persistence');
      if (!/rdb_bgsave_in_progress:1|aof_rewrite_in_progress:1/.test(info)) return;
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
}
