/**
 * The history feature's Redis key (chat DB), and the fragment every script that changes a chat
 * or its messages composes, so the change and its outbox entry are written in one atomic step:
 * no change is saved without being queued for PostgreSQL, and none is queued that was not saved.
 *
 *   history:outbox   STREAM of changes still to be written to PostgreSQL, oldest first. Every
 *                    API process reads it as one consumer group (history-mirror.ts) and deletes
 *                    an entry once PostgreSQL holds it; nothing ever trims it otherwise.
 *
 * Entry fields: `kind` (`chat`: `meta` is the chat's whole metadata JSON after the change;
 * `message`: `data` is one message's whole JSON and `meta` the chat's metadata after it;
 * `delete`: the chat and its messages are gone), `chat_id`. Whole values, never deltas, so
 * applying an entry twice or late changes nothing (the entry ID orders them).
 */
export const OUTBOX_KEY = 'history:outbox';

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
