import { createLogger } from '@simorgh/api/logger';
import { createRedisClient, redisTargetAt } from '@simorgh/api/redis';

/**
 * Writes `count` general sessions for `userId` straight into the chat DB in the layout of
 * apps/api/src/features/chats/chats.store.ts (metadata JSON + the user's index ZSET), pipelined:
 * 10 000 sessions take well under a second, against minutes through the API. Numbers start
 * after `firstSeq`: users seeded in the same run must not share session IDs.
 */
export async function seedSessions(redisUrl: string, chatDb: number, userId: string, count: number, firstSeq = 0): Promise<void> {
  const client = createRedisClient(redisTargetAt(redisUrl), chatDb, createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }), 'bench-seed');
  await client.connect();
  try {
    const start = Date.UTC(2024, 0, 1);
    for (let first = 0; first < count; first += 1000) {
      const writes: Array<Promise<unknown>> = [];
      for (let index = first; index < Math.min(count, first + 1000); index += 1) {
        const createdMs = start + index * 60_000;
        const created = new Date(createdMs);
        const id = `G-${created.getUTCFullYear()}${String(created.getUTCMonth() + 1).padStart(2, '0')}-${String(firstSeq + index + 1).padStart(6, '0')}`;
        const iso = created.toISOString();
        const metadata = {
          chat_id: id,
          chat_name: `Seeded conversation ${firstSeq + index + 1} about flange ratings`,
          user_id: userId,
          chat_type: 'general',
          project_number: null,
          project_name: null,
          page_name: null,
          created_at: iso,
          updated_at: iso,
          message_count: 0,
          status: 'active',
          pinned: false,
        };
        writes.push(client.set(`chat:${id}:metadata`, JSON.stringify(metadata)));
        writes.push(client.zAdd(`user:${userId}:chats`, { score: createdMs, value: id }));
      }
      await Promise.all(writes);
    }
  } finally {
    client.destroy();
  }
}
