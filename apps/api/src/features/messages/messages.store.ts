/**
 * Messages of a session, in the chat DB next to its metadata (key names from chats.store.ts):
 *
 *   chat:<id>:messages      LIST of JSON messages, oldest first
 *   chat:<id>:message_seq   INCR counter behind S-<id>-M-nnn (user and assistant share it)
 *   chat:<id>:streaming     a reply is being written: holds the owning stream's token, with a
 *                           lease (PX) the stream keeps renewing; one reply at a time per session
 *                           keeps the list in ID order
 *
 * Every write of the list also rewrites message_count in chat:<id>:metadata to the list's
 * length in the same Lua script, so the two can never disagree; a write for a session whose
 * metadata is gone (deleted meanwhile) is refused instead of resurrecting its messages.
 */
import { formatMessageId, MessageSchema, type Message } from '@simorgh/contracts';
import { evalScript, type RedisClient } from '../../redis.js';
import { messageSeqKey, messagesKey, metadataKey } from '../chats/chats.store.js';

export const streamLockKey = (chatId: string) => `chat:${chatId}:streaming`;

/**
 * KEYS: messages, message_seq. Legacy sessions have messages but no counter: start it at the
 * number of stored messages so new IDs follow the old ones.
 */
const NEXT_SEQ_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  local existing = 0
  if redis.call('TYPE', KEYS[1])['ok'] == 'list' then existing = redis.call('LLEN', KEYS[1]) end
  redis.call('SET', KEYS[2], existing)
end
return redis.call('INCR', KEYS[2])`;

/**
 * KEYS: metadata, messages. ARGV: message JSON, message_id, updated_at.
 * Replaces the message with the same ID among the last few (a regenerated reply keeps its
 * place and ID) or appends it; then sets message_count to the list length.
 * Returns the new count, or false when the session's metadata is missing.
 */
const UPSERT_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local length = redis.call('LLEN', KEYS[2])
local tail = redis.call('LRANGE', KEYS[2], -10, -1)
local replaced = false
for i = #tail, 1, -1 do
  local ok, decoded = pcall(cjson.decode, tail[i])
  if ok and type(decoded) == 'table' and decoded['message_id'] == ARGV[2] then
    redis.call('LSET', KEYS[2], length - #tail + i - 1, ARGV[1])
    replaced = true
    break
  end
end
if not replaced then length = redis.call('RPUSH', KEYS[2], ARGV[1]) end
local meta = cjson.decode(raw)
meta['message_count'] = length
meta['updated_at'] = ARGV[3]
redis.call('SET', KEYS[1], cjson.encode(meta))
return length`;

/** KEYS: lock. ARGV: token, lease ms. Renews only our own lease. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS: lock. ARGV: token. Releases only our own lock (a lapsed lease may belong to another). */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Reads a stored message. Messages written by the previous system may lack fields: they get
 * defaults (complete, an ID from their position) rather than being hidden.
 */
export function parseStoredMessage(chatId: string, raw: string, index: number): Message | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const stored = value as Record<string, unknown>;
  const role = stored.role === 'assistant' || stored.role === 'user' ? stored.role : null;
  if (!role || typeof stored.content !== 'string') return null;
  const createdAt = stored.created_at ?? stored.timestamp;
  const candidate = {
    ...stored,
    message_id: typeof stored.message_id === 'string' ? stored.message_id : formatMessageId(chatId, index + 1),
    role,
    created_at:
      typeof createdAt === 'string'
        ? createdAt
        : typeof createdAt === 'number'
          ? new Date(createdAt < 1e11 ? createdAt * 1000 : createdAt).toISOString()
          : new Date(0).toISOString(),
    status: stored.status ?? 'complete',
  };
  const parsed = MessageSchema.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

export function createMessagesStore(chat: RedisClient) {
  return {
    async list(chatId: string): Promise<Message[]> {
      if ((await chat.type(messagesKey(chatId))) !== 'list') return [];
      const raws = await chat.lRange(messagesKey(chatId), 0, -1);
      return raws.flatMap((raw, index) => parseStoredMessage(chatId, raw, index) ?? []);
    },

    /** The next message ID of the session (reserved: nobody else gets it). */
    async nextMessageId(chatId: string): Promise<string> {
      const seq = Number(await evalScript(chat, NEXT_SEQ_SCRIPT, [messagesKey(chatId), messageSeqKey(chatId)], []));
      return formatMessageId(chatId, seq);
    },

    /** Appends, or replaces the message with the same ID; false when the session is gone. */
    async save(chatId: string, message: Message, updatedAt: string): Promise<boolean> {
      const result = await evalScript(
        chat,
        UPSERT_SCRIPT,
        [metadataKey(chatId), messagesKey(chatId)],
        [JSON.stringify(message), message.message_id, updatedAt],
      );
      return typeof result === 'number';
    },

    /** Takes the session's reply lock; false while another reply is being written. */
    async lockStream(chatId: string, token: string, leaseMs: number): Promise<boolean> {
      return (await chat.set(streamLockKey(chatId), token, { condition: 'NX', expiration: { type: 'PX', value: leaseMs } })) === 'OK';
    },

    async renewStreamLock(chatId: string, token: string, leaseMs: number): Promise<void> {
      await evalScript(chat, RENEW_SCRIPT, [streamLockKey(chatId)], [token, String(leaseMs)]);
    },

    async unlockStream(chatId: string, token: string): Promise<void> {
      await evalScript(chat, RELEASE_SCRIPT, [streamLockKey(chatId)], [token]);
    },

    async isStreaming(chatId: string): Promise<boolean> {
      return (await chat.exists(streamLockKey(chatId))) === 1;
    },
  };
}

export type MessagesStore = ReturnType<typeof createMessagesStore>;
