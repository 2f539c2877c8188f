/**
 * The chats feature's Redis keys (chat DB), and what other features may compose into their own
 * scripts. Only this feature builds these key names or writes chat metadata; another
 * feature's script that must change the metadata in the same atomic step includes a fragment
 * from here and calls it.
 *
 *   chat:<id>:metadata      JSON string, the ChatMetadata fields (legacy UUID chats may lack
 *                           some; readers fill defaults, see chat-metadata.ts)
 *   user:<user_id>:chats    ZSET of the user's session IDs in Redis, score = creation time in ms
 *   user:<user_id>:moved    ZSET directory of the user's chats moved to PostgreSQL (MOVED_INDEX_LUA)
 *   user:<user_id>:moved:<bound>  ZSET bucket of those chats, same scores, at most 128 members
 *   user:<user_id>:moved:count    how many chats the buckets hold (the chat limit counts them)
 *   user:<user_id>:pinned   ZSET of the pinned ones among them, same scores: the list reads it
 *                           first so a page costs O(page), not O(chats)
 *   user:<user_id>:shared   ZSET of the chats others shared with the user by name (their
 *                           allowed_users), score = the chat's creation time in ms
 *   project:<n>:shared      ZSET of project n's chats with visibility "project", same scores
 *   shared:projects         SET of the project numbers whose project:<n>:shared is not empty
 *   shared:projects:version a number raised whenever a project joins shared:projects (first
 *                           set from the clock in µs, so it never repeats after a flush)
 * The last three are what GET /api/chats?scope=shared reads; the scripts that change sharing or
 * delete a chat keep them in step with the metadata (SHARING_LUA in chats.store.ts). The version
 * tells a user's remembered answer on shared:projects (the TPMS cache's memo) that the set has
 * grown; a project leaving the set needs no new answer (its index is empty, nothing is found on it).
 */
export const metadataKey = (chatId: string) => `chat:${chatId}:metadata`;
export const userIndexKey = (userId: string) => `user:${userId}:chats`;
export const userPinnedKey = (userId: string) => `user:${userId}:pinned`;
export const userSharedKey = (userId: string) => `user:${userId}:shared`;
export const projectSharedKey = (projectNumber: string) => `project:${projectNumber}:shared`;
export const SHARED_PROJECTS_KEY = 'shared:projects';
export const SHARED_PROJECTS_VERSION_KEY = 'shared:projects:version';

/**
 * Lua, run with the chat DB selected:
 *   shared_projects_version()  the version of shared:projects (set from the clock when missing)
 *   shared_projects_grew()     raises it: call whenever SADD added a project
 */
export const SHARED_PROJECTS_VERSION_LUA = `
local function shared_projects_version()
  local version = redis.call('GET', '${SHARED_PROJECTS_VERSION_KEY}')
  if version then return version end
  local now = redis.call('TIME')
  version = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('SET', '${SHARED_PROJECTS_VERSION_KEY}', version)
  return version
end
local function shared_projects_grew()
  shared_projects_version()
  redis.call('INCR', '${SHARED_PROJECTS_VERSION_KEY}')
end`;
export const userMovedKey = (userId: string) => `user:${userId}:moved`;
export const userMovedCountKey = (userId: string) => `user:${userId}:moved:count`;
/** Members per moved-chats bucket at most: Redis's default zset-max-listpack-entries. */
export const MOVED_BUCKET_MAX = 128;

/**
 * Lua: \`id_before(a, b)\`, whether ID \`a\` sorts before \`b\` as Redis orders sorted-set members
 * (bytes). Lua's own \`<\` follows the server's LC_COLLATE locale, which Redis sets from its
 * environment.
 */
export const ID_ORDER_LUA = `
local function id_before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end`;

/**
 * Lua: the index of an owner's chats moved to PostgreSQL, kept out of `user:<id>:chats`. In that
 * sorted set a chat costs ~137 bytes once the owner has more than 128 (Redis then stores it as a
 * skiplist); here it costs ~30. The moved chats are split into buckets (sorted sets, same
 * members and scores) of at most MOVED_BUCKET_MAX members, which Redis keeps in its compact
 * listpack encoding. Each bucket holds a contiguous range of the list order (score, then ID):
 * the directory `user:<id>:moved` holds each bucket's lower bound (score = the bound's score,
 * member = its ID; the lowest bucket's bound is -inf and '' and its key ends in `first`), and a
 * bucket holds the entries from its bound up to the next bound. A full bucket splits in two; an
 * empty one leaves the directory. The bucket keys are built here from the owner and the bound,
 * so they cannot be declared in KEYS (as the creation script's metadata key; one Redis, not a
 * cluster).
 *   index_moved(owner, score, chat_id)       files a moved chat under its score
 *   unindex_moved(owner, chat_id, hint)      takes it out; returns its score (false: not there).
 *                                            `hint` (its creation ms, '' for none) finds its
 *                                            bucket at once; without, or wrong, every bucket is asked
 *   moved_count(owner)                       how many moved chats the owner has
 *   moved_to_index(index_key, owner, chat_id, hint)  back into `index_key` at the score it had
 *                                            (a member still there, as moved before the buckets, stays)
 */
export const MOVED_INDEX_LUA = `
${ID_ORDER_LUA}
local function moved_dir(owner) return 'user:' .. owner .. ':moved' end
local function moved_count_key(owner) return 'user:' .. owner .. ':moved:count' end
local function moved_bucket_key(owner, bound)
  if bound == '' then return 'user:' .. owner .. ':moved:first' end
  return 'user:' .. owner .. ':moved:' .. bound
end
local function moved_bucket_of(owner, score, chat_id)
  local offset = 0
  while true do
    local bounds = redis.call('ZRANGE', moved_dir(owner), score, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, 16, 'WITHSCORES')
    if #bounds == 0 then return nil end
    for i = 1, #bounds, 2 do
      local bound = bounds[i]
      if bound == '' or tonumber(bounds[i + 1]) < tonumber(score) or not id_before(chat_id, bound) then return bound end
    end
    offset = offset + 16
  end
end
local function moved_count(owner)
  return tonumber(redis.call('GET', moved_count_key(owner)) or '0')
end
local function index_moved(owner, score, chat_id)
  local bound = moved_bucket_of(owner, score, chat_id)
  if bound == nil then
    bound = ''
    redis.call('ZADD', moved_dir(owner), '-inf', '')
  end
  local key = moved_bucket_key(owner, bound)
  if redis.call('ZADD', key, score, chat_id) == 0 then return end
  redis.call('INCR', moved_count_key(owner))
  local size = redis.call('ZCARD', key)
  if size < ${MOVED_BUCKET_MAX} then return end
  -- Split: in half, or next to the new member when it came at either end (chats tend to move
  -- in order), so buckets filled in order end nearly full.
  local rank = redis.call('ZRANK', key, chat_id)
  local split = math.floor(size / 2)
  if rank == size - 1 then split = size - 1 elseif rank == 0 then split = 1 end
  local upper = redis.call('ZRANGE', key, split, -1, 'WITHSCORES')
  local upper_key = moved_bucket_key(owner, upper[1])
  if redis.call('EXISTS', upper_key) == 1 then return end
  local members = {}
  for i = 1, #upper, 2 do
    members[#members + 1] = upper[i + 1]
    members[#members + 1] = upper[i]
  end
  redis.call('ZADD', upper_key, unpack(members))
  redis.call('ZREMRANGEBYRANK', key, split, -1)
  redis.call('ZADD', moved_dir(owner), upper[2], upper[1])
end
local function unindex_moved(owner, chat_id, hint)
  local bounds = {}
  if hint ~= '' then bounds[1] = moved_bucket_of(owner, hint, chat_id) end
  for attempt = 1, 2 do
    for _, bound in ipairs(bounds) do
      local key = moved_bucket_key(owner, bound)
      local score = redis.call('ZSCORE', key, chat_id)
      if score then
        redis.call('ZREM', key, chat_id)
        if redis.call('EXISTS', key) == 0 then redis.call('ZREM', moved_dir(owner), bound) end
        if redis.call('DECR', moved_count_key(owner)) <= 0 then redis.call('DEL', moved_count_key(owner)) end
        return score
      end
    end
    if attempt == 1 then bounds = redis.call('ZRANGE', moved_dir(owner), 0, -1) end
  end
  return false
end
local function moved_to_index(index_key, owner, chat_id, hint)
  local score = unindex_moved(owner, chat_id, hint)
  if score then
    redis.call('ZADD', index_key, score, chat_id)
  elseif not redis.call('ZSCORE', index_key, chat_id) and hint ~= '' then
    redis.call('ZADD', index_key, hint, chat_id)
  end
end`;

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
 * Lua: `delete_chat(meta_key, index_key, pinned_key, messages_key, seq_key, outbox_key, chat_id,
 * owner, hint)` removes a chat wherever it is (in Redis, or moved to PostgreSQL and only marked
 * and indexed here), its messages and its index entries, and queues the delete for PostgreSQL.
 * `hint`: its creation ms ('' when unknown; see unindex_moved). The script includes the messages
 * feature's DELETE_MESSAGES_LUA, the history's OUTBOX_LUA and MOVED_LUA and MOVED_INDEX_LUA
 * before it.
 */
export const DELETE_CHAT_LUA = `
local function delete_chat(meta_key, index_key, pinned_key, messages_key, seq_key, outbox_key, chat_id, owner, hint)
  redis.call('DEL', meta_key)
  outbox_delete(outbox_key, chat_id)
  delete_messages(messages_key, seq_key)
  redis.call('ZREM', index_key, chat_id)
  redis.call('ZREM', pinned_key, chat_id)
  if is_moved(chat_id) then unindex_moved(owner, chat_id, hint) end
  forget_moved(chat_id)
end`;
