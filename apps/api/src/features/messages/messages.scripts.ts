/**
 * The messages feature's Redis keys (chat DB, next to the chat's metadata), and what other
 * features may compose into their own scripts. Only this feature builds these key names or
 * writes messages.
 *
 *   chat:<id>:messages      LIST of JSON messages, oldest first
 *   chat:<id>:message_seq   INCR counter behind S-<id>-M-nnn (user and assistant share it)
 *   chat:<id>:streaming     a reply is being written: holds the owning stream's token, with a
 *                           lease (PX) the stream keeps renewing; one reply at a time per chat
 *                           keeps the list in ID order
 *   chat:<id>:reply         HASH of the reply being written (token, user_id, message_id,
 *                           created_at, model, start_id: its first event): what the messages page
 *                           shows of it and what recovers it when its process dies
 *   chat:<id>:reply_text    STRING, the reply's text so far (APPENDed with each batch of tokens)
 *   replies:leases          ZSET of chats with a reply being written, score = lease end (ms); the
 *                           writer renews it, any process claims one that lapsed
 */
export const messagesKey = (chatId: string) => `chat:${chatId}:messages`;
export const messageSeqKey = (chatId: string) => `chat:${chatId}:message_seq`;
export const streamLockKey = (chatId: string) => `chat:${chatId}:streaming`;
export const replyKey = (chatId: string) => `chat:${chatId}:reply`;
export const replyTextKey = (chatId: string) => `chat:${chatId}:reply_text`;
export const REPLY_LEASES_KEY = 'replies:leases';

/** The keys a chat's messages are stored under, for DELETE_MESSAGES_LUA. */
export const storedMessageKeys = (chatId: string) => ({ messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId) });

/**
 * Lua: `count_messages(messages_key)`, the number of stored messages whatever structure holds
 * them (legacy lists, newer hashes/zsets).
 */
export const COUNT_MESSAGES_LUA = `
local function count_messages(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'list' then return redis.call('LLEN', key) end
  if kind == 'zset' then return redis.call('ZCARD', key) end
  if kind == 'hash' then return redis.call('HLEN', key) end
  if kind == 'stream' then return redis.call('XLEN', key) end
  return 0
end`;

/**
 * Lua: `delete_messages(messages_key, seq_key)` removes a chat's messages and its message
 * counter (storedMessageKeys), for the script that deletes the chat. UNLINK, not DEL: the keys
 * are gone at once, but a long list's memory is freed in the background, so deleting a big
 * chat does not stall Redis for everyone.
 */
export const DELETE_MESSAGES_LUA = `
local function delete_messages(messages_key, seq_key)
  return redis.call('UNLINK', messages_key, seq_key)
end`;
