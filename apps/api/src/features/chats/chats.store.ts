/**
 * Storage of chat sessions in Redis. Key layout (chat DB = REDIS_CHAT_DB unless noted):
 *
 *   chat:<id>:metadata      JSON string, the ChatMetadata fields (legacy UUID sessions may lack
 *                           some; readers fill defaults, see chat-metadata.ts)
 *   user:<user_id>:chats    ZSET of the user's session IDs, score = creation time in ms
 *   user:<user_id>:pinned   ZSET of the pinned ones among them, same scores: the list reads it
 *                           first so a page costs O(page), not O(sessions). Kept by the pin
 *                           (PATCH_SCRIPT) and delete scripts; start-up reconciliation repairs it
 *   chat:<id>:messages      reserved for the messages feature (its own format)
 *   chat:<id>:message_seq   reserved for the messages feature (message ID counter)
 *   session:counter:general:<yyyyMM>, session:counter:project:<n>
 *                           INCR counters, in the counters DB (REDIS_URL's DB), never in this one;
 *                           CREATE_SCRIPT reaches them with a SELECT of its own
 *
 * Multi-key writes are Lua scripts (atomic, and unlike MULTI they obey the client's command
 * timeout when Redis stalls). Metadata changes go through PATCH_SCRIPT, which decodes the JSON,
 * applies a patch and an optional message_count change, and writes it back in one step; the
 * messages feature keeps message_count current with `adjustMessageCount` below (call it after
 * writing chat:<id>:messages, or run PATCH_SCRIPT itself inside its own script).
 * Deleting a session removes metadata, messages, message_seq and the index entry together.
 */
import type { ChatMetadata } from '@simorgh/contracts';
import { evalScript, type RedisClient } from '../../redis.js';
import { CACHED_ACCESS_LUA, type AccessCheck } from '../projects/tpms-cache.js';

export const metadataKey = (chatId: string) => `chat:${chatId}:metadata`;
export const messagesKey = (chatId: string) => `chat:${chatId}:messages`;
export const messageSeqKey = (chatId: string) => `chat:${chatId}:message_seq`;
export const userIndexKey = (userId: string) => `user:${userId}:chats`;
export const userPinnedKey = (userId: string) => `user:${userId}:pinned`;

/**
 * Takes the next session number and writes the session in one step (one round trip, one fsync
 * wait). The counter lives in the counters DB: the script SELECTs it for the INCR only (a
 * script's SELECT never changes the caller's DB). A number whose session already exists (the
 * counter was lost or flushed) is skipped, never reused. A project session may come with an
 * access check (tpms-cache.ts), run first in the cache DB: when the cache no longer says what
 * the caller expected, nothing is written.
 *
 * KEYS: counter (counters DB), user index, then for an access check its two keys (cache DB).
 * ARGV: counters DB, chat DB, ID prefix, number width, metadata JSON after its chat_id field,
 * score, max attempts, then for an access check the cache DB and the expected project value.
 * Returns { number, ID, numbers skipped }; number 0 when every attempt was taken, -1 when the
 * access check failed.
 */
const CREATE_SCRIPT = `${CACHED_ACCESS_LUA}
if KEYS[3] then
  redis.call('SELECT', ARGV[8])
  if not cached_access(KEYS[3], KEYS[4], ARGV[9]) then return { -1, '', 0 } end
end
local skipped = 0
for attempt = 1, tonumber(ARGV[7]) do
  redis.call('SELECT', ARGV[1])
  local seq = redis.call('INCR', KEYS[1])
  redis.call('SELECT', ARGV[2])
  local id = ARGV[3] .. string.format('%0' .. ARGV[4] .. 'd', seq)
  if redis.call('SET', 'chat:' .. id .. ':metadata', '{"chat_id":"' .. id .. '",' .. ARGV[5], 'NX') then
    redis.call('ZADD', KEYS[2], ARGV[6], id)
    return { seq, id, skipped }
  end
  skipped = skipped + 1
end
return { 0, '', skipped }`;

/** Give up after this many taken numbers in a row; start-up reconciliation should prevent it. */
const MAX_CREATE_ATTEMPTS = 10_000;

/** Counts a messages key whatever structure holds it (legacy lists, newer hashes/zsets). */
const COUNT_MESSAGES_LUA = `
local function count_messages(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'list' then return redis.call('LLEN', key) end
  if kind == 'zset' then return redis.call('ZCARD', key) end
  if kind == 'hash' then return redis.call('HLEN', key) end
  if kind == 'stream' then return redis.call('XLEN', key) end
  return 0
end`;

/**
 * KEYS: metadata, messages, and (only when the patch may change `pinned`) user index, user
 * pinned set. ARGV: patch JSON, guard field ('' for none), guard value, message_count delta,
 * chat ID. Returns the new JSON, or false when the key is missing or the guard field no longer
 * holds the guard value (compare-and-set).
 */
export const PATCH_SCRIPT = `${COUNT_MESSAGES_LUA}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local meta = cjson.decode(raw)
if ARGV[2] ~= '' and meta[ARGV[2]] ~= ARGV[3] then return false end
local delta = tonumber(ARGV[4]) or 0
if delta ~= 0 then
  local count = tonumber(meta['message_count'])
  if count == nil then
    count = count_messages(KEYS[2])
  else
    count = count + delta
  end
  if count < 0 then count = 0 end
  meta['message_count'] = count
end
for field, value in pairs(cjson.decode(ARGV[1])) do meta[field] = value end
local encoded = cjson.encode(meta)
redis.call('SET', KEYS[1], encoded)
if KEYS[4] then
  local score = redis.call('ZSCORE', KEYS[3], ARGV[5])
  if meta['pinned'] == true and score then
    redis.call('ZADD', KEYS[4], score, ARGV[5])
  else
    redis.call('ZREM', KEYS[4], ARGV[5])
  end
end
return encoded`;

/** KEYS: metadata, messages, message_seq, user index, user pinned set. ARGV: id. */
const DELETE_SCRIPT = `
local removed = redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return removed`;

const COUNT_SCRIPT = `${COUNT_MESSAGES_LUA}
return count_messages(KEYS[1])`;

export type MetadataPatch = Partial<Pick<ChatMetadata, 'chat_name' | 'status' | 'pinned' | 'updated_at'>>;

export type NewSession = { seq: number; chatId: string; skipped: number };

/** `databases`: the counters DB (REDIS_URL's), the chat DB this client is on, the TPMS cache DB. */
export function createChatsStore(chat: RedisClient, databases: { counters: number; chat: number; cache: number }) {
  const [countersDb, chatDb, cacheDb] = [String(databases.counters), String(databases.chat), String(databases.cache)];
  async function patch(
    chatId: string,
    changes: MetadataPatch,
    options: { guard?: { field: 'chat_name'; value: string }; messageDelta?: number; owner?: string } = {},
  ): Promise<unknown | null> {
    // A pin change must move the session between the index and the pinned set in the same step.
    const pinKeys = changes.pinned !== undefined && options.owner !== undefined ? [userIndexKey(options.owner), userPinnedKey(options.owner)] : [];
    const result = await evalScript(
      chat,
      PATCH_SCRIPT,
      [metadataKey(chatId), messagesKey(chatId), ...pinKeys],
      [JSON.stringify(changes), options.guard?.field ?? '', options.guard?.value ?? '', String(options.messageDelta ?? 0), chatId],
    );
    return typeof result === 'string' ? (JSON.parse(result) as unknown) : null;
  }

  return {
    /**
     * Numbers and stores a new session: `idPrefix` + the counter's next number, zero-padded to
     * `width`. `metadata` is everything but chat_id. seq is 0 when no free number was found;
     * 'unverified' when `access` was given and the cache did not confirm it (nothing written).
     */
    async createWithNextId(options: {
      counterKey: string;
      idPrefix: string;
      width: number;
      metadata: Omit<ChatMetadata, 'chat_id'>;
      createdMs: number;
      access?: AccessCheck | undefined;
    }): Promise<NewSession | 'unverified'> {
      const { access } = options;
      const keys = [options.counterKey, userIndexKey(options.metadata.user_id)];
      const args = [
        countersDb,
        chatDb,
        options.idPrefix,
        String(options.width),
        JSON.stringify(options.metadata).slice(1),
        String(options.createdMs),
        String(MAX_CREATE_ATTEMPTS),
      ];
      if (access) {
        keys.push(...access.keys);
        args.push(cacheDb, access.expected);
      }
      const result = (await evalScript(chat, CREATE_SCRIPT, keys, args)) as [number, string, number];
      const seq = Number(result[0]);
      if (seq === -1) return 'unverified';
      return { seq, chatId: String(result[1]), skipped: Number(result[2]) };
    },

    /** Parsed stored JSON (possibly legacy-shaped), or null when absent or unreadable. */
    async getRaw(chatId: string): Promise<unknown | null> {
      const value = await chat.get(metadataKey(chatId));
      return parseJson(value);
    },

    /** The stored metadata texts, unparsed (the list remembers what it made of each). */
    async getManyStored(chatIds: string[]): Promise<Array<string | null>> {
      if (chatIds.length === 0) return [];
      return chat.mGet(chatIds.map(metadataKey));
    },

    async countMessages(chatId: string): Promise<number> {
      return Number(await evalScript(chat, COUNT_SCRIPT, [messagesKey(chatId)], []));
    },

    /**
     * Up to `count` entries of an index ZSET, newest first, with score <= `maxScore`, skipping
     * the first `offset` of them (entries sharing `maxScore` already seen).
     */
    async rangeNewestFirst(key: string, maxScore: number, offset: number, count: number): Promise<IndexEntry[]> {
      const max = maxScore === Number.POSITIVE_INFINITY ? '+inf' : String(maxScore);
      const entries = await chat.zRangeWithScores(key, max, '-inf', { BY: 'SCORE', REV: true, LIMIT: { offset, count } });
      return entries.map((entry) => ({ id: String(entry.value), score: entry.score }));
    },

    patch,

    /** Sets chat_name only while it still equals `placeholder`. Null when it no longer did. */
    setNameIfStill(chatId: string, placeholder: string, name: string, updatedAt: string) {
      return patch(chatId, { chat_name: name, updated_at: updatedAt }, { guard: { field: 'chat_name', value: placeholder } });
    },

    /** Adds `delta` to message_count (legacy sessions without one get the stored message count). */
    adjustMessageCount(chatId: string, delta: number, updatedAt: string) {
      return patch(chatId, { updated_at: updatedAt }, { messageDelta: delta });
    },

    async delete(chatId: string, userId: string): Promise<void> {
      await evalScript(
        chat,
        DELETE_SCRIPT,
        [metadataKey(chatId), messagesKey(chatId), messageSeqKey(chatId), userIndexKey(userId), userPinnedKey(userId)],
        [chatId],
      );
    },
  };
}

export type ChatsStore = ReturnType<typeof createChatsStore>;
export type IndexEntry = { id: string; score: number };

function parseJson(value: string | null): unknown | null {
  if (value === null) return null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}
