import { createLogger } from '@simorgh/api/logger';
import { createRedisClient, redisTargetAt, type RedisClient } from '@simorgh/api/redis';
import { createHistoryDb, type HistoryDb } from '@simorgh/api/postgres';
import { percentile } from './stats.js';

/**
 * Figures of the history's archive: the mirror's lag under load, how fast a pass moves chats
 * out of Redis, what a list page costs when most of a user's chats are moved, and what moving
 * saves in Redis memory.
 */

const silent = () => createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' });
export const openChatDb = async (redisUrl: string): Promise<RedisClient> => {
  // Seeding pipelines hundreds of thousands of writes (fsync'd): a deadline far above the API's.
  const client = createRedisClient(redisTargetAt(redisUrl), 1, silent(), 'bench-archive', 120_000);
  await client.connect();
  return client;
};

/** Samples the age of the oldest unmirrored change every 20 ms until stopped: p50 and p99 in ms. */
export function sampleMirrorLag(chat: RedisClient): { stop(): Promise<{ p50: number; p99: number; samples: number }> } {
  const lags: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const oldest = (await chat.sendCommand(['XRANGE', 'history:outbox', '-', '+', 'COUNT', '1'])) as Array<[string, unknown]>;
      const id = oldest[0]?.[0];
      lags.push(id ? Math.max(0, Date.now() - Number(id.split('-')[0])) : 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { p50: percentile(lags, 50), p99: percentile(lags, 99), samples: lags.length };
    },
  };
}

const DAY_MS = 86_400_000;

/**
 * Writes `count` general chats of `userId` with `messages` messages each straight into Redis
 * (the chats and messages features' layout) and PostgreSQL (the mirror's rows, as if mirrored),
 * pipelined and in multi-row INSERTs: 10 000 chats × 20 messages in seconds, against many
 * minutes through the API and the mirror. `idleDays(index)`: how long ago the chat was last active. IDs are G-2023MM-<firstSeq + n>, apart from every other seeded user's.
 */
export async function seedMirroredChats(
  chat: RedisClient,
  database: HistoryDb['pool'],
  options: { userId: string; count: number; messages: number; firstSeq: number; idleDays: (index: number) => number },
): Promise<void> {
  const start = Date.UTC(2023, 0, 1);
  const now = Date.now();
  const text = 'Check the flange rating against the design pressure at the upper design temperature, then the bolting. '.repeat(2);
  // A PostgreSQL kept from an earlier run (BENCH_POSTGRES_DIR) still has this user's rows; their messages go with them.
  await database.query('DELETE FROM chats WHERE user_id = $1', [options.userId]);
  for (let first = 0; first < options.count; first += 200) {
    const writes: Array<Promise<unknown>> = [];
    const chatRows: unknown[][] = [];
    const messageRows: unknown[][] = [];
    for (let index = first; index < Math.min(options.count, first + 200); index += 1) {
      const createdMs = start + index * 60_000;
      const created = new Date(createdMs);
      const id = `G-2023${String(created.getUTCMonth() + 1).padStart(2, '0')}-${String(options.firstSeq + index + 1).padStart(6, '0')}`;
      const updated = new Date(now - options.idleDays(index) * DAY_MS).toISOString();
      const metadata = {
        chat_id: id,
        chat_name: `Seeded conversation ${options.firstSeq + index + 1} about flange ratings`,
        user_id: options.userId,
        chat_type: 'general',
        project_number: null,
        project_name: null,
        page_name: null,
        created_at: created.toISOString(),
        updated_at: updated,
        message_count: options.messages,
        status: 'active',
        pinned: false,
      };
      const messages = Array.from({ length: options.messages }, (_, n) => ({
        message_id: `S-${id}-M-${String(n + 1).padStart(3, '0')}`,
        role: n % 2 === 0 ? 'user' : 'assistant',
        content: text,
        created_at: created.toISOString(),
        status: 'complete',
      }));
      writes.push(chat.set(`chat:${id}:metadata`, JSON.stringify(metadata)));
      if (messages.length > 0) {
        writes.push(chat.rPush(`chat:${id}:messages`, messages.map((message) => JSON.stringify(message))));
        writes.push(chat.set(`chat:${id}:message_seq`, String(messages.length)));
      }
      writes.push(chat.zAdd(`user:${options.userId}:chats`, { score: createdMs, value: id }));
      chatRows.push([id, options.userId, metadata.chat_name, metadata.created_at, updated, options.messages, JSON.stringify(metadata)]);
      for (const [n, message] of messages.entries()) messageRows.push([message.message_id, id, n + 1, message.role, message.content, message.created_at]);
    }
    await Promise.all(writes);
    const values = (rows: unknown[][], width: number) => rows.map((_, row) => `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(', ')})`).join(', ');
    await database.query(
      `INSERT INTO chats (chat_id, user_id, chat_type, chat_name, status, created_at, updated_at, message_count, last_activity_at, metadata, mirror_version)
       SELECT v.id, v.user_id, 'general', v.name, 'active', v.created::timestamptz, v.updated::timestamptz, v.count::int, v.updated::timestamptz, v.meta::jsonb, 1
       FROM (VALUES ${values(chatRows, 7)}) AS v(id, user_id, name, created, updated, count, meta)`,
      chatRows.flat(),
    );
    for (let part = 0; part < messageRows.length; part += 5000) {
      const rows = messageRows.slice(part, part + 5000);
      await database.query(
        `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
         SELECT v.id, v.chat_id, v.seq::int, v.role, v.content, 'complete', v.created::timestamptz, 1
         FROM (VALUES ${values(rows, 6)}) AS v(id, chat_id, seq, role, content, created)`,
        rows.flat(),
      );
    }
  }
}

/**
 * Redis's used_memory in bytes once it has settled. Redis shrinks a hash table that many keys
 * left (the keyspace after a move: ~46 bytes per chat moved) only on its timer, and not while a
 * save or AOF rewrite runs in a child (the seeding sets both off): waits for neither to be
 * running and for two readings 300 ms apart to agree within 1 KB, at most 20 s.
 */
export async function usedMemory(chat: RedisClient): Promise<number> {
  const read = async () => {
    await chat.sendCommand(['MEMORY', 'PURGE']);
    const info = await chat.info();
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return { bytes: field('used_memory'), busy: field('rdb_bgsave_in_progress') + field('aof_rewrite_in_progress') > 0 };
  };
  const deadline = Date.now() + 20_000;
  let last = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await read();
    if ((!now.busy && Math.abs(now.bytes - last.bytes) < 1024) || Date.now() > deadline) return now.bytes;
    last = now;
  }
}

export const describeLag = (lag: { p50: number; p99: number; samples: number }) => `p50 ${lag.p50} ms, p99 ${lag.p99} ms (${lag.samples} samples)`;

/** A small pool on the history database, for seeding. */
export const openHistoryPool = (url: string): HistoryDb => createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
