/**
 * The Redis side of moving chats out of Redis and back, each step one script, so a chat is
 * always whole in exactly one place as Redis sees it: hot (metadata and messages in Redis) or
 * moved (a marker in history:moved:*, everything in PostgreSQL). The chat keys are the chats
 * and messages features' (their key builders, passed in by the caller); the index member goes
 * to the owner's moved-chats buckets (the chats feature's MOVED_INDEX_LUA) at the same score and
 * back, so a moved chat keeps its place in the list.
 *
 *   history:archive:lock   one archive pass at a time across API processes (token, with a lease)
 *   chat:<id>:restored     set for a while after a chat is brought back, so the pass that may be
 *                          running cannot move it again before the request that wanted it uses it
 */
import { defineScript } from '../../redis-script.js';
import { CHAT_METADATA_LUA, DELETE_CHAT_LUA, MOVED_INDEX_LUA } from '../chats/chats.scripts.js';
import { DELETE_MESSAGES_LUA } from '../messages/messages.scripts.js';
import { MOVED_LUA, OUTBOX_LUA } from './history.scripts.js';

export const ARCHIVE_LOCK_KEY = 'history:archive:lock';
export const restoredKey = (chatId: string) => `chat:${chatId}:restored`;

/**
 * Lua: `index_moved_member(index_key, owner, chat_id)` takes a moved chat's member out of its
 * owner's index into the owner's moved chats (MOVED_INDEX_LUA), at the same score; nothing when
 * the index does not hold it.
 */
const INDEX_MOVED_MEMBER_LUA = `
local function index_moved_member(index_key, owner, chat_id)
  local score = redis.call('ZSCORE', index_key, chat_id)
  if not score then return end
  redis.call('ZREM', index_key, chat_id)
  index_moved(owner, score, chat_id)
end`;

/**
 * Moves each candidate whose Redis copy is exactly what PostgreSQL holds: no outbox entry of
 * the chat is waiting (so every change is mirrored), no reply is being written, it was not just
 * brought back, its owner's index has it, and its message list is as long as PostgreSQL's. Then
 * the metadata, messages and message counter go, the index member goes to the owner's moved
 * chats and the marker records the mirrored version (and the message counter, when it is not
 * the number of messages). More than `maxBacklog` entries waiting: nothing is moved ('behind').
 * A chat moved before the moved-chats buckets existed (its member still in the index) has its
 * member moved there now.
 *
 * `candidates`: JSON array of {id, user, version, count, meta, messages, seq, lock, restored, index}.
 * Returns one status per candidate: 'moved', 'already' (moved before, at this version), or why not.
 */
export const MOVE_SCRIPT = defineScript({
  keys: ['outbox'],
  args: ['candidates', 'maxBacklog'],
  lua: `${CHAT_METADATA_LUA}
${MOVED_LUA}
${MOVED_INDEX_LUA}
${INDEX_MOVED_MEMBER_LUA}
if redis.call('XLEN', k.outbox) > tonumber(a.maxBacklog) then return 'behind' end
local waiting = {}
for _, entry in ipairs(redis.call('XRANGE', k.outbox, '-', '+')) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'chat_id' then waiting[fields[i + 1]] = true end
  end
end
local statuses = {}
for i, c in ipairs(cjson.decode(a.candidates)) do
  local status = nil
  local marker = moved_marker(c.id)
  if marker then
    if marker_parts(marker) == c.version then status = 'already' else status = 'other' end
    index_moved_member(c.index, c.user, c.id)
  elseif waiting[c.id] then
    status = 'waiting'
  elseif redis.call('EXISTS', c.lock, c.restored) > 0 then
    status = 'busy'
  else
    local meta = load_chat(c.meta)
    if not meta then
      status = 'gone'
    elseif meta['user_id'] ~= c.user or not redis.call('ZSCORE', c.index, c.id) then
      status = 'unindexed'
    else
      local kind = redis.call('TYPE', c.messages)['ok']
      local length = 0
      if kind == 'list' then length = redis.call('LLEN', c.messages) elseif kind ~= 'none' then status = 'unreadable' end
      if status == nil and length ~= tonumber(c.count) then status = 'unmirrored' end
      if status == nil then
        local seq = redis.call('GET', c.seq) or ''
        redis.call('UNLINK', c.meta, c.messages, c.seq)
        index_moved_member(c.index, c.user, c.id)
        set_moved(c.id, c.version, seq, length)
        status = 'moved'
      end
    end
  end
  statuses[i] = status
end
return statuses`,
});

/**
 * Brings a moved chat back: only while its marker still names `version` (the snapshot read from
 * PostgreSQL is the latest); writes the metadata, the messages (`messages`: JSON array of
 * message JSON texts, oldest first) and the message counter back, drops the marker, puts the
 * member back from the owner's moved chats into `index` at its score (`createdMs`: where to
 * look first), holds the chat against the next move for `leaseMs`, and queues the chat for the
 * mirror (which clears its moved flag in PostgreSQL). Returns 'restored', 'absent' (not moved:
 * hot, or deleted) or 'stale' (moved again since the snapshot: read it again).
 */
export const RESTORE_SCRIPT = defineScript({
  keys: ['meta', 'messages', 'messageSeq', 'restored', 'index', 'outbox'],
  args: ['chatId', 'version', 'metadata', 'messageList', 'leaseMs', 'owner', 'createdMs'],
  lua: `${OUTBOX_LUA}
${MOVED_LUA}
${MOVED_INDEX_LUA}
local marker = moved_marker(a.chatId)
if not marker then return 'absent' end
local version, seq = marker_parts(marker)
if version ~= a.version then return 'stale' end
redis.call('DEL', k.messages, k.messageSeq)
redis.call('SET', k.meta, a.metadata)
local messages = cjson.decode(a.messageList)
-- No counter in the marker: it was the number of messages (none: there was no counter).
if seq == nil then seq = #messages > 0 and tostring(#messages) or '' end
for first = 1, #messages, 1000 do
  redis.call('RPUSH', k.messages, unpack(messages, first, math.min(first + 999, #messages)))
end
if seq ~= '' then redis.call('SET', k.messageSeq, seq) end
forget_moved(a.chatId)
moved_to_index(k.index, a.owner, a.chatId, a.createdMs)
redis.call('SET', k.restored, '1', 'PX', a.leaseMs)
outbox_chat(k.outbox, a.chatId, a.metadata)
return 'restored'`,
});

/**
 * Backfill: queues a whole chat for the mirror (its metadata, then each message), read and
 * queued in one step so the snapshot is consistent. Messages stored without an ID (legacy) get
 * the one their position gives them (as the API shows them). Returns 0 when the chat is gone.
 */
export const SNAPSHOT_SCRIPT = defineScript({
  keys: ['meta', 'messages', 'outbox'],
  args: ['chatId', 'idPrefix', 'width'],
  lua: `${OUTBOX_LUA}
local meta = redis.call('GET', k.meta)
if not meta then return 0 end
outbox_chat(k.outbox, a.chatId, meta)
if redis.call('TYPE', k.messages)['ok'] == 'list' then
  for i, raw in ipairs(redis.call('LRANGE', k.messages, 0, -1)) do
    local ok, message = pcall(cjson.decode, raw)
    if ok and type(message) == 'table' then
      if type(message['message_id']) ~= 'string' then
        message['message_id'] = a.idPrefix .. string.format('%0' .. a.width .. 'd', i)
        raw = cjson.encode(message)
      end
      redis.call('XADD', k.outbox, '*', 'kind', 'message', 'chat_id', a.chatId, 'data', raw, 'meta', meta)
    end
  end
end
return 1`,
});

/**
 * Retention: deletes a chat idle since before the cutoff wherever it is, as the chats feature
 * deletes one (and queued for PostgreSQL). A hot chat is checked again here: changed since the
 * cutoff, or a reply being written, and it stays. `createdMs`: where a moved chat is filed.
 * Returns 1 when deleted.
 */
export const EXPIRE_SCRIPT = defineScript({
  keys: ['meta', 'index', 'pinned', 'messages', 'messageSeq', 'lock', 'outbox'],
  args: ['chatId', 'user', 'cutoffIso', 'cutoffMs', 'createdMs'],
  lua: `${CHAT_METADATA_LUA}
${DELETE_MESSAGES_LUA}
${OUTBOX_LUA}
${MOVED_LUA}
${MOVED_INDEX_LUA}
${DELETE_CHAT_LUA}
if redis.call('EXISTS', k.lock) == 1 then return 0 end
local meta = load_chat(k.meta)
if meta then
  if meta['user_id'] ~= a.user then return 0 end
  local updated = meta['updated_at'] or meta['created_at']
  if type(updated) == 'number' then
    if updated < 1e11 then updated = updated * 1000 end
    if updated >= tonumber(a.cutoffMs) then return 0 end
  elseif type(updated) ~= 'string' or updated >= a.cutoffIso then
    return 0
  end
elseif not is_moved(a.chatId) then
  return 0
end
delete_chat(k.meta, k.index, k.pinned, k.messages, k.messageSeq, k.outbox, a.chatId, a.user, a.createdMs)
return 1`,
});

/**
 * The version each chat among `ids` (JSON array) was moved at, false for a chat not moved (hot,
 * or gone): what a process's copy of a moved chat's metadata is checked against.
 */
export const MOVED_VERSIONS_SCRIPT = defineScript({
  keys: [],
  args: ['ids'],
  lua: `${MOVED_LUA}
local versions = {}
for i, id in ipairs(cjson.decode(a.ids)) do
  local marker = moved_marker(id)
  versions[i] = marker and (marker_parts(marker)) or false
end
return versions`,
});

/**
 * Chats moved before the moved-chats buckets existed keep their member in the owner's index:
 * moves it to the buckets for each of `chats` (JSON array of {id, index, user}) that is moved
 * and still there. Returns how many were moved over.
 */
export const INDEX_MOVED_SCRIPT = defineScript({
  keys: [],
  args: ['chats'],
  lua: `${MOVED_LUA}
${MOVED_INDEX_LUA}
${INDEX_MOVED_MEMBER_LUA}
local done = 0
for _, c in ipairs(cjson.decode(a.chats)) do
  if is_moved(c.id) and redis.call('ZSCORE', c.index, c.id) then
    index_moved_member(c.index, c.user, c.id)
    done = done + 1
  end
end
return done`,
});

/** Releases the pass lock only if it is still ours. */
export const UNLOCK_SCRIPT = defineScript({
  keys: ['lock'],
  args: ['token'],
  lua: `
if redis.call('GET', k.lock) == a.token then return redis.call('DEL', k.lock) end
return 0`,
});
