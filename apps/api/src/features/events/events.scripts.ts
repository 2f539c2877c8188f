/**
 * The events feature's Redis key (chat DB) and the Lua other features compose to write a chat's
 * events in the same atomic step as the change they tell of.
 *
 *   chat-events:<id>   STREAM of the chat's events, oldest first. Field `e`: the event's JSON as
 *                      sent on the wire; the entry ID is the event's ID (SSE `id:`). Capped
 *                      (MAXLEN ~) and expiring (PEXPIRE on every write), so its memory is bounded
 *                      whatever the chat does and it disappears once the chat is quiet.
 *                      Outside the chat's own `chat:<id>:*` keys: it outlives the chat's
 *                      deletion (followers learn of it) and its move to PostgreSQL.
 */
export const EVENTS_KEY_PREFIX = 'chat-events:';
export const eventsKey = (chatId: string) => `${EVENTS_KEY_PREFIX}${chatId}`;

/** Before every event of every chat. */
export const NO_EVENT_ID = '0-0';

/**
 * Lua:
 *   append_event(events_key, event_json, max_len, retention_ms) → the event's ID
 *   last_event_id(events_key) → the chat's last event ID, '0-0' without any
 */
export const EVENTS_LUA = `
local function append_event(events_key, event_json, max_len, retention_ms)
  local id = redis.call('XADD', events_key, 'MAXLEN', '~', max_len, '*', 'e', event_json)
  redis.call('PEXPIRE', events_key, retention_ms)
  return id
end
local function last_event_id(events_key)
  local last = redis.call('XREVRANGE', events_key, '+', '-', 'COUNT', 1)
  if #last == 0 then return '0-0' end
  return last[1][1]
end`;

/** What a script composing EVENTS_LUA passes `append_event` besides the key and the event. */
export type EventLimits = { maxLen: number; retentionMs: number };
