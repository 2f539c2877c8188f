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
 * While a reply waits for its first token, its first delta's ID is reserved (chat DB):
 *
 *   chat-events-reserved:<id>   STRING, the reserved ID; gone once that event is stored or the
 *                               reply ends; expires like the stream
 *
 * The reply's writer can then hand the first delta to the requester as soon as the model sends
 * it, while it is being stored, instead of after Redis answered. An event written meanwhile
 * (a rename, a title) takes the next ID after the newest one, below the reserved one, so the
 * stream still grows in ID order and the reserved ID is still free when the delta comes.
 */
export const reservedEventKey = (chatId: string) => `chat-events-reserved:${chatId}`;

/**
 * How far above the newest event a reserved ID lies (in the sequence part of the ID): room for
 * that many events written by others before the reply's first delta.
 */
export const RESERVED_ID_GAP = 1_000_000_000;

/**
 * Lua:
 *   append_event(events_key, reserved_key, event_json, max_len, retention_ms) → the event's ID;
 *     below the reserved ID while one is held
 *   reserve_event_id(events_key, reserved_key, retention_ms) → an ID no other event will take
 *   append_reserved(events_key, reserved_key, id, event_json, max_len, retention_ms) → the event's
 *     ID: `id` when it is still reserved, else the next one
 *   last_event_id(events_key) → the chat's last event ID, '0-0' without any
 */
export const EVENTS_LUA = `
local function last_event_id(events_key)
  local last = redis.call('XREVRANGE', events_key, '+', '-', 'COUNT', 1)
  if #last == 0 then return '0-0' end
  return last[1][1]
end
local function event_id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, tonumber(seq)
end
local function add_event(events_key, id, event_json, max_len, retention_ms)
  local added = redis.call('XADD', events_key, 'MAXLEN', '~', max_len, id, 'e', event_json)
  redis.call('PEXPIRE', events_key, retention_ms)
  return added
end
local function append_event(events_key, reserved_key, event_json, max_len, retention_ms)
  local id = '*'
  local reserved = redis.call('GET', reserved_key)
  if reserved then
    local ms, seq = event_id_parts(last_event_id(events_key))
    local reserved_ms, reserved_seq = event_id_parts(reserved)
    if ms == reserved_ms and seq + 1 < reserved_seq then
      id = ms .. '-' .. string.format('%d', seq + 1)
    else
      -- No room left below it (never in practice): the reservation is given up.
      redis.call('DEL', reserved_key)
    end
  end
  return add_event(events_key, id, event_json, max_len, retention_ms)
end
local function reserve_event_id(events_key, reserved_key, retention_ms)
  local ms, seq = event_id_parts(last_event_id(events_key))
  local id = ms .. '-' .. string.format('%d', seq + ${RESERVED_ID_GAP})
  redis.call('SET', reserved_key, id, 'PX', retention_ms)
  return id
end
local function append_reserved(events_key, reserved_key, id, event_json, max_len, retention_ms)
  if redis.call('GET', reserved_key) ~= id then return append_event(events_key, reserved_key, event_json, max_len, retention_ms) end
  redis.call('DEL', reserved_key)
  return add_event(events_key, id, event_json, max_len, retention_ms)
end`;

/** What a script composing EVENTS_LUA passes `append_event` besides the key and the event. */
export type EventLimits = { maxLen: number; retentionMs: number };
