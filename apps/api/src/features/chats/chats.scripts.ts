/**
 * The chats feature's Redis keys (chat DB), and what other features may compose into their own
 * scripts. Only this feature builds these key names or writes chat metadata; another
 * feature's script that must change the metadata in the same atomic step includes a fragment
 * from here and calls it.
 *
 *   chat:<id>:metadata      JSON string, the ChatMetadata fields (legacy UUID chats may lack
 *                           some; readers fill defaults, see chat-metadata.ts)
 *   user:<user_id>:chats    ZSET of the user's session IDs, score = creation time in ms
 *   user:<user_id>:pinned   ZSET of the pinned ones among them, same scores: the list reads it
 *                           first so a page costs O(page), not O(chats)
 *   user:<user_id>:shared   ZSET of the chats others shared with the user by name (their
 *                           allowed_users), score = the chat's creation time in ms
 *   project:<n>:shared      ZSET of project n's chats with visibility "project", same scores
 *   shared:projects         SET of the project numbers whose project:<n>:shared is not empty
 * The last three are what GET /api/chats?scope=shared reads; the scripts that change sharing or
 * delete a chat keep them in step with the metadata (SHARING_LUA in chats.store.ts).
 */
export const metadataKey = (chatId: string) => `chat:${chatId}:metadata`;
export const userIndexKey = (userId: string) => `user:${userId}:chats`;
export const userPinnedKey = (userId: string) => `user:${userId}:pinned`;
export const userSharedKey = (userId: string) => `user:${userId}:shared`;
export const projectSharedKey = (projectNumber: string) => `project:${projectNumber}:shared`;
export const SHARED_PROJECTS_KEY = 'shared:projects';

/**
 * Lua, for scripts that read a chat and change its message count atomically with their own
 * writes (metadataKey's key passed in KEYS):
 *   load_chat(meta_key)         the decoded metadata table; nil when absent or unreadable
 *   set_message_count(meta_key, meta, count, updated_at)
 *                               stores `meta` (from load_chat) with message_count and updated_at;
 *                               returns the stored JSON (for the history outbox entry)
 */
export const CHAT_METADATA_LUA = `
local function load_chat(meta_key)
  local raw = redis.call('GET', meta_key)
  if not raw then return nil end
  local ok, meta = pcall(cjson.decode, raw)
  if ok and type(meta) == 'table' then return meta end
  return nil
end
local function set_message_count(meta_key, meta, count, updated_at)
  meta['message_count'] = count
  meta['updated_at'] = updated_at
  local encoded = cjson.encode(meta)
  redis.call('SET', meta_key, encoded)
  return encoded
end`;

/**
 * Lua: `delete_chat(meta_key, index_key, pinned_key, messages_key, seq_key, outbox_key, chat_id)`
 * removes a chat wherever it is (in Redis, or moved to PostgreSQL and only marked here), its
 * messages and its index entries, and queues the delete for PostgreSQL. The script includes the
 * messages feature's DELETE_MESSAGES_LUA and the history's OUTBOX_LUA and MOVED_LUA before it.
 */
export const DELETE_CHAT_LUA = `
local function delete_chat(meta_key, index_key, pinned_key, messages_key, seq_key, outbox_key, chat_id)
  redis.call('DEL', meta_key)
  outbox_delete(outbox_key, chat_id)
  delete_messages(messages_key, seq_key)
  redis.call('ZREM', index_key, chat_id)
  redis.call('ZREM', pinned_key, chat_id)
  forget_moved(chat_id)
end`;
