/**
 * The history feature's Redis key (chat DB), and the fragment every script that changes a chat
 * or its messages composes, so the change and its outbox entry are written in one atomic step:
 * no change is saved without being queued for PostgreSQL, and none is queued that was not saved.
 *
 *   history:outbox   STREAM of changes still to be written to PostgreSQL, oldest first. Every
 *                    API process reads it as one consumer group (history-mirror.ts) and deletes
 *                    an entry once PostgreSQL holds it; nothing ever trims it otherwise.
 *   history:outbox:set-aside  STREAM (at most ~10 000, oldest trimmed) of entries the mirror could
 *                    not write: unreadable, or refused by PostgreSQL for their data (a value it
 *                    cannot store). Each keeps its fields plus `entry_id` and `reason`, for an
 *                    operator to inspect; Redis still holds the change itself.
 *
 * Entry fields: `kind` (`chat`: `meta` is the chat's whole metadata JSON after the change;
 * `message`: `data` is one message's whole JSON and `meta` the chat's metadata after it;
 * `delete`: the chat and its messages are gone), `chat_id`. Whole values, never deltas, so
 * applying an entry twice or late changes nothing (the entry ID orders them).
 */
export const OUTBOX_KEY = 'history:outbox';
export const SET_ASIDE_KEY = 'history:outbox:set-aside';
/** The set-aside stream keeps about this many entries. */
export const SET_ASIDE_MAX = 10_000;

/** The keys scripts composing OUTBOX_LUA declare (the outbox stream). */
export const outboxKeys = () => ({ outbox: OUTBOX_KEY });

/**
 * Lua:
 *   outbox_chat(outbox_key, chat_id, meta_json)                 the chat was created or changed
 *   outbox_message(outbox_key, chat_id, message_json, meta_json) a message was saved or replaced
 *   outbox_delete(outbox_key, chat_id)                           the chat and its messages were deleted
 */
export const OUTBOX_LUA = `
local function outbox_chat(outbox_key, chat_id, meta_json)
  redis.call('XADD', outbox_key, '*', 'kind', 'chat', 'chat_id', chat_id, 'meta', meta_json)
end
local function outbox_message(outbox_key, chat_id, message_json, meta_json)
  redis.call('XADD', outbox_key, '*', 'kind', 'message', 'chat_id', chat_id, 'data', message_json, 'meta', meta_json)
end
local function outbox_delete(outbox_key, chat_id)
  redis.call('XADD', outbox_key, '*', 'kind', 'delete', 'chat_id', chat_id)
end`;

/**
 * Chats moved out of Redis (archive-job.ts): the chat's member goes from its owner's index to
 * the owner's moved-chats buckets (the chats feature's MOVED_INDEX_LUA), its metadata and
 * messages go, and a marker remembers that PostgreSQL holds it and at which version. Markers live in small hashes of up to 100 chats each (the ID without its last two
 * digits names the hash, and those two digits are the field; legacy UUID chats share 4 096
 * hashes by their first three characters, the whole ID as the field), so Redis keeps them in its
 * compact listpack encoding: about 10 bytes per moved chat instead of a key of its own (~100
 * bytes before its value). The value is the mirrored version, an integer listpack stores in at
 * most 9 bytes, followed by `:<message counter>` only when the counter is not the number of
 * messages (PostgreSQL holds those; after a delete of the newest message, say).
 *
 *   history:moved:<bucket>   HASH field → "<mirror_version>" or "<mirror_version>:<message_seq>"
 *
 * Markers written before the short field (the whole ID as field) are still read and removed.
 */
export const MOVED_PREFIX = 'history:moved:';

const isNumbered = (chatId: string) => /^[GP]-/.test(chatId);

/** The marker hash of a chat; the same rule as moved_key in MOVED_LUA. */
export function movedKey(chatId: string): string {
  return isNumbered(chatId) ? `${MOVED_PREFIX}${chatId.slice(0, -2)}` : `${MOVED_PREFIX}legacy:${chatId.slice(0, 3).toLowerCase()}`;
}

/** The chat's field in its marker hash; the same rule as moved_field in MOVED_LUA. */
export function movedField(chatId: string): string {
  return isNumbered(chatId) ? chatId.slice(-2) : chatId;
}

/**
 * Lua, for scripts that must know whether a chat was moved out of Redis (its keys are built
 * here from the ID, like chats.scripts' metadata keys in the creation script):
 *   moved_key(chat_id)               the marker hash holding the chat
 *   moved_marker(chat_id)            the marker's value, false when the chat is not moved
 *   marker_parts(marker)             its version and message counter (nil: the message count)
 *   set_moved(chat_id, version, seq, count)  marks the chat moved at `version`, with message
 *                                    counter `seq` ('' for none) and `count` messages
 *   is_moved(chat_id)                true while the chat lives in PostgreSQL only
 *   forget_moved(chat_id)            drops the marker (the chat was deleted or brought back)
 */
export const MOVED_LUA = `
local function moved_key(chat_id)
  if string.match(chat_id, '^[GP]%-') then return '${MOVED_PREFIX}' .. string.sub(chat_id, 1, #chat_id - 2) end
  return '${MOVED_PREFIX}legacy:' .. string.lower(string.sub(chat_id, 1, 3))
end
local function moved_field(chat_id)
  if string.match(chat_id, '^[GP]%-') then return string.sub(chat_id, -2) end
  return chat_id
end
local function moved_marker(chat_id)
  local key = moved_key(chat_id)
  return redis.call('HGET', key, moved_field(chat_id)) or redis.call('HGET', key, chat_id)
end
local function marker_parts(marker)
  local split = string.find(marker, ':', 1, true)
  if not split then return marker, nil end
  return string.sub(marker, 1, split - 1), string.sub(marker, split + 1)
end
local function set_moved(chat_id, version, seq, count)
  local value = version
  if seq ~= tostring(count) and not (seq == '' and tonumber(count) == 0) then value = version .. ':' .. seq end
  redis.call('HSET', moved_key(chat_id), moved_field(chat_id), value)
end
local function is_moved(chat_id)
  return moved_marker(chat_id) ~= false
end
local function forget_moved(chat_id)
  redis.call('HDEL', moved_key(chat_id), moved_field(chat_id), chat_id)
end`;
