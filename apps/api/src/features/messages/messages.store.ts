/**
 * Messages of a chat, in the chat DB next to its metadata (key names in messages.scripts.ts).
 *
 * Every write of the list also rewrites message_count in the chat's metadata to the list's
 * length in the same Lua script (through the chats feature's CHAT_METADATA_LUA), so the two can
 * never disagree, and queues the message with the chat's new metadata for PostgreSQL (the
 * history feature's OUTBOX_LUA); a write for a chat whose metadata is gone (deleted meanwhile) is refused
 * instead of resurrecting its messages.
 */
import { formatMessageId, MESSAGE_SEQ_WIDTH, MessageSchema, type Message } from '@simorgh/contracts';
import type { RedisClient } from '../../redis.js';
import { defineScript } from '../../redis-script.js';
import { CHAT_METADATA_LUA, metadataKey } from '../chats/chats.scripts.js';
import { OUTBOX_LUA, outboxKeys } from '../history/history.scripts.js';
import { EVENTS_LUA, eventsKey, reservedEventKey, type EventLimits } from '../events/events.scripts.js';
import { messageSeqKey, messagesKey, REPLY_LEASES_KEY, replyKey, replyTextKey, streamLockKey } from './messages.scripts.js';
import { ADMISSION_ARGS, ADMISSION_KEYS, ADMISSION_LUA, streamsKey, type Admission } from './reply-limits.js';

/**
 * Reserves `count` message numbers; returns the last. Legacy chats have messages but no
 * counter: start it at the number of stored messages so new IDs follow the old ones.
 */
const RESERVE_SEQ_LUA = `
local function reserve_seq(messages_key, seq_key, count)
  if redis.call('EXISTS', seq_key) == 0 then
    local existing = 0
    if redis.call('TYPE', messages_key)['ok'] == 'list' then existing = redis.call('LLEN', messages_key) end
    redis.call('SET', seq_key, existing)
  end
  return redis.call('INCRBY', seq_key, count)
end`;

const NEXT_SEQ_SCRIPT = defineScript({
  keys: ['messages', 'messageSeq'],
  lua: `${RESERVE_SEQ_LUA}
return reserve_seq(k.messages, k.messageSeq, 1)`,
});

/**
 * Everything a reply needs before the model is called, in one round trip (one fsync wait):
 * admits it against the user's limits (cache DB, selected for that part only), checks that
 * `writer` may write in the chat (its owner, one of its allowed_users, or, on a project chat
 * visible to the project, anyone whose permission the caller checked), refuses a chat that has no room for `reserve` more messages
 * (`maxMessages`), takes the chat's reply lock, reads the newest `historyMax` stored messages
 * (never the whole list: the script's cost must not grow with the chat), reserves
 * `reserve` message numbers and saves the user message (`userMessage`: its JSON without
 * message_id, '' for none) under the first of them, as `idPrefix` + the number padded to
 * `width`. A project chat needs its TPMS permission checked first (cached, in the projects
 * feature): without `projectChecked` = '1' the script stops there. Nothing is taken when the
 * request is refused.
 * Returns {'limited', verdict, wait ms} over a limit, -1 when the chat is gone or not
 * `writer`'s to write in, 'project' for a project chat without the flag, 'full' when the chat has no room,
 * false when another reply holds the lock, else {last reserved number (0 if none), the newest
 * messages before the user message, the list index of the first of them, the user_message
 * event's ID ('' for none), the event ID reserved for the reply's first delta}.
 */
const OPEN_REPLY_SCRIPT = defineScript({
  durable: true,
  keys: ['meta', 'lock', 'messages', 'messageSeq', 'outbox', 'reply', 'replyText', 'leases', 'events', 'reserved', ...ADMISSION_KEYS],
  args: ['token', 'lockMs', 'leaseUntil', 'startedAt', 'reserve', 'updatedAt', 'idPrefix', 'width', 'userMessage', 'cacheDb', 'chatDb', 'writer', 'projectChecked', 'historyMax', 'maxMessages', 'chatId', 'model', 'eventsMax', 'retentionMs', ...ADMISSION_ARGS],
  lua: `${ADMISSION_LUA}
${RESERVE_SEQ_LUA}
${CHAT_METADATA_LUA}
${OUTBOX_LUA}
${EVENTS_LUA}
redis.call('SELECT', a.cacheDb)
local verdict = admit(k.rateLog, k.streamSlots, a.now, a.windowMs, a.perWindow, a.slotLeaseMs, a.streamLimit, a.slotToken)
if verdict[1] ~= 0 then return {'limited', verdict[1], verdict[2] or 0} end
redis.call('SELECT', a.chatDb)
local meta = load_chat(k.meta)
local count = tonumber(a.reserve)
local length = 0
if redis.call('TYPE', k.messages)['ok'] == 'list' then length = redis.call('LLEN', k.messages) end
local function may_write(meta)
  if meta['user_id'] == a.writer then return true end
  if type(meta['allowed_users']) == 'table' then
    for _, user in ipairs(meta['allowed_users']) do
      if user == a.writer then return true end
    end
  end
  return meta['chat_type'] == 'project' and meta['visibility'] == 'project'
end
local refused = nil
if not meta or not may_write(meta) then
  refused = -1
elseif meta['chat_type'] == 'project' and a.projectChecked ~= '1' then
  refused = 'project'
elseif count > 0 and length + count > tonumber(a.maxMessages) then
  refused = 'full'
elseif not redis.call('SET', k.lock, a.token, 'NX', 'PX', a.lockMs) then
  refused = false
end
if refused ~= nil then
  redis.call('SELECT', a.cacheDb)
  refund(k.rateLog, k.streamSlots, a.slotToken)
  return refused
end
local history = {}
local first = 0
if length > 0 then
  history = redis.call('LRANGE', k.messages, -tonumber(a.historyMax), -1)
  first = length - #history
end
local seq = 0
if count > 0 then seq = reserve_seq(k.messages, k.messageSeq, count) end
local event_id = ''
local reply_id = ''
if a.userMessage ~= '' then
  local id = a.idPrefix .. string.format('%0' .. a.width .. 'd', seq - count + 1)
  local message = '{"message_id":' .. cjson.encode(id) .. ',' .. string.sub(a.userMessage, 2)
  local length = redis.call('RPUSH', k.messages, message)
  outbox_message(k.outbox, a.chatId, message, set_message_count(k.meta, meta, length, a.updatedAt))
  event_id = append_event(k.events, k.reserved, '{"type":"user_message","message":' .. message .. '}', a.eventsMax, a.retentionMs)
  reply_id = a.idPrefix .. string.format('%0' .. a.width .. 'd', seq - count + 2)
end
redis.call('DEL', k.reply, k.replyText)
redis.call('HSET', k.reply, 'token', a.token, 'user_id', a.writer, 'message_id', reply_id, 'created_at', a.startedAt, 'model', a.model, 'start_id', event_id)
redis.call('ZADD', k.leases, a.leaseUntil, a.chatId)
return {seq, history, first, event_id, reserve_event_id(k.events, k.reserved, a.retentionMs)}`,
});

/**
 * Lua `upsert_message(meta_key, meta, messages_key, outbox_key, chat_id, message, message_id,
 * updated_at)`: replaces the message with the same ID among the last few (a regenerated reply
 * keeps its place and ID) or appends it; then sets message_count to the list length (`meta`
 * from load_chat) and queues the message for PostgreSQL. Returns the new count.
 */
const UPSERT_LUA = `${CHAT_METADATA_LUA}
${OUTBOX_LUA}
local function upsert_message(meta_key, meta, messages_key, outbox_key, chat_id, message, message_id, updated_at)
  local length = redis.call('LLEN', messages_key)
  local tail = redis.call('LRANGE', messages_key, -10, -1)
  local replaced = false
  for i = #tail, 1, -1 do
    local ok, decoded = pcall(cjson.decode, tail[i])
    if ok and type(decoded) == 'table' and decoded['message_id'] == message_id then
      redis.call('LSET', messages_key, length - #tail + i - 1, message)
      replaced = true
      break
    end
  end
  if not replaced then length = redis.call('RPUSH', messages_key, message) end
  outbox_message(outbox_key, chat_id, message, set_message_count(meta_key, meta, length, updated_at))
  return length
end`;

/**
 * Lua `end_reply(reply, reply_text, lock, leases, reserved, token, chat_id)` forgets the reply
 * being written (its record, text, lock, lease and reserved event ID); `append_events(events_key,
 * reserved_key, json_list, max_len, retention_ms)` stores a JSON array of event JSON strings as
 * events and returns their IDs.
 */
const REPLY_LUA = `${EVENTS_LUA}
local function end_reply(reply, reply_text, lock, leases, reserved, token, chat_id)
  redis.call('DEL', reply, reply_text, reserved)
  if redis.call('GET', lock) == token then redis.call('DEL', lock) end
  redis.call('ZREM', leases, chat_id)
end
local function append_events(events_key, reserved_key, json_list, max_len, retention_ms)
  local ids = {}
  for _, event in ipairs(cjson.decode(json_list)) do ids[#ids + 1] = append_event(events_key, reserved_key, event, max_len, retention_ms) end
  return ids
end`;

/**
 * A batch of the reply's events (JSON array of event JSON strings) and the text they add, stored
 * together, by the writer holding `token` only; the first under `firstId` when given (the ID
 * reserved for it, if it still is). `promptTokens` (with the first batch; '' otherwise): the
 * prompt's estimated tokens, kept with the reply for its recovery. Returns their IDs; 0 when the
 * reply is no longer this writer's (recovered after its lease lapsed), -1 when the chat was deleted.
 */
const APPEND_REPLY_SCRIPT = defineScript({
  keys: ['meta', 'reply', 'replyText', 'events', 'reserved'],
  args: ['token', 'events', 'text', 'maxLen', 'retentionMs', 'firstId', 'promptTokens'],
  lua: `${REPLY_LUA}
if redis.call('HGET', k.reply, 'token') ~= a.token then return 0 end
if redis.call('EXISTS', k.meta) == 0 then return -1 end
if a.promptTokens ~= '' then redis.call('HSET', k.reply, 'prompt_tokens', a.promptTokens) end
if a.text ~= '' then redis.call('APPEND', k.replyText, a.text) end
local ids = {}
local events = a.events
if a.firstId ~= '' then
  local batch = cjson.decode(a.events)
  ids[1] = append_reserved(k.events, k.reserved, a.firstId, table.remove(batch, 1), a.maxLen, a.retentionMs)
  events = #batch > 0 and cjson.encode(batch) or '[]'
end
for _, id in ipairs(append_events(k.events, k.reserved, events, a.maxLen, a.retentionMs)) do ids[#ids + 1] = id end
if ids[1] and redis.call('HGET', k.reply, 'start_id') == '' then redis.call('HSET', k.reply, 'start_id', ids[1]) end
return ids`,
});

/**
 * Saves the finished reply (`message`) and its closing events, and ends it: the lock, the lease
 * and the user's reply slot (cache DB) are released in the same step. Only by the writer holding
 * `token`: 0 when the reply was recovered by another process, -1 when the chat was deleted
 * (nothing saved), else the events' IDs.
 */
const FINISH_REPLY_SCRIPT = defineScript({
  durable: true,
  keys: ['meta', 'messages', 'outbox', 'reply', 'replyText', 'lock', 'leases', 'events', 'reserved', 'slots'],
  args: ['token', 'message', 'messageId', 'updatedAt', 'chatId', 'events', 'maxLen', 'retentionMs', 'cacheDb', 'chatDb'],
  lua: `${UPSERT_LUA}
${REPLY_LUA}
if redis.call('HGET', k.reply, 'token') ~= a.token then return 0 end
end_reply(k.reply, k.replyText, k.lock, k.leases, k.reserved, a.token, a.chatId)
local result = -1
local meta = load_chat(k.meta)
if meta then
  upsert_message(k.meta, meta, k.messages, k.outbox, a.chatId, a.message, a.messageId, a.updatedAt)
  result = append_events(k.events, k.reserved, a.events, a.maxLen, a.retentionMs)
end
redis.call('SELECT', a.cacheDb)
redis.call('ZREM', k.slots, a.token)
redis.call('SELECT', a.chatDb)
return result`,
});

/**
 * Recovers a reply whose writer stopped renewing its lease (its process died): when the lease
 * of `chatId` in `leases` is still over at `now` and the reply still has `token`, saves the text
 * so far as an error "The reply was interrupted", sends assistant_message, error and done, and
 * ends the reply (slot included). Returns 1 when it did; 0 when there was nothing to do.
 */
const CLAIM_REPLY_SCRIPT = defineScript({
  durable: true,
  keys: ['leases', 'meta', 'messages', 'outbox', 'reply', 'replyText', 'lock', 'events', 'reserved', 'slots'],
  args: ['chatId', 'token', 'now', 'detail', 'maxLen', 'retentionMs', 'cacheDb', 'chatDb'],
  lua: `${UPSERT_LUA}
${REPLY_LUA}
local lease = redis.call('ZSCORE', k.leases, a.chatId)
if not lease or tonumber(lease) > tonumber(a.now) then return 0 end
local reply = redis.call('HGETALL', k.reply)
local fields = {}
for i = 1, #reply, 2 do fields[reply[i]] = reply[i + 1] end
if fields['token'] ~= a.token then
  if not fields['token'] then redis.call('ZREM', k.leases, a.chatId) end
  return 0
end
local text = redis.call('GET', k.replyText) or ''
end_reply(k.reply, k.replyText, k.lock, k.leases, k.reserved, a.token, a.chatId)
local meta = load_chat(k.meta)
if meta then
  if fields['message_id'] ~= '' then
    local message = {message_id = fields['message_id'], role = 'assistant', content = text,
      created_at = fields['created_at'], status = 'error', error = a.detail}
    if fields['model'] ~= '' then message['model'] = fields['model'] end
    -- Estimated as the writer would have (usage.ts): 4 UTF-16 units a token, counted here from
    -- UTF-8 (a character of four bytes is two units); the prompt's estimate came with the text.
    if fields['prompt_tokens'] and text ~= '' then
      local units = select(2, string.gsub(text, '[^\\128-\\191]', '')) + select(2, string.gsub(text, '[\\240-\\247]', ''))
      message['usage'] = {prompt_tokens = tonumber(fields['prompt_tokens']), completion_tokens = math.ceil(units / 4),
        model = message['model'] or cjson.null, estimated = true}
    end
    local json = cjson.encode(message)
    upsert_message(k.meta, meta, k.messages, k.outbox, a.chatId, json, fields['message_id'], fields['created_at'])
    append_event(k.events, k.reserved, '{"type":"assistant_message","message":' .. json .. '}', a.maxLen, a.retentionMs)
  end
  append_event(k.events, k.reserved, cjson.encode({type = 'error', detail = a.detail, code = 'upstream_unavailable'}), a.maxLen, a.retentionMs)
  append_event(k.events, k.reserved, '{"type":"done"}', a.maxLen, a.retentionMs)
end
redis.call('SELECT', a.cacheDb)
redis.call('ZREM', k.slots, a.token)
redis.call('SELECT', a.chatDb)
return 1`,
});

/**
 * One page of the list: the newest `limit` messages before the message with the ID `before`
 * (exclusive; '' for the end of the list), as {list index of the first, raw messages}; false
 * when no message of the list has that ID.
 *
 * Finding `before` without reading the list: IDs are `idPrefix` + a number that grows by at
 * least one per stored message (gaps where a reply was reserved but never saved), and messages
 * without a stored ID take the number of their position, so the message numbered n sits at
 * index n-1 or before. That index is probed first (right whenever there are no gaps), then a
 * binary search over the indexes below it: about log2(length) LINDEX reads and decodes.
 */
const PAGE_SCRIPT = defineScript({
  keys: ['messages', 'reply', 'replyText', 'events'],
  args: ['before', 'beforeSeq', 'idPrefix', 'width', 'limit'],
  lua: `${EVENTS_LUA}
-- The reply being written and the last event, read in the same step as the page: the text so
-- far is exactly what the events up to that ID wrote.
local reply = redis.call('HMGET', k.reply, 'message_id', 'created_at', 'model')
local writing = {}
if reply[1] and reply[1] ~= '' then writing = {reply[1], reply[2] or '', reply[3] or '', redis.call('GET', k.replyText) or ''} end
local last = last_event_id(k.events)
local is_list = redis.call('TYPE', k.messages)['ok'] == 'list'
if not is_list then
  if a.before ~= '' then return false end
  return {0, {}, writing, last}
end
local length = redis.call('LLEN', k.messages)
local stop = length
if a.before ~= '' then
  local target = tonumber(a.beforeSeq)
  -- The number and the ID a reader sees for the message at index i.
  local function numbered(i)
    local position = a.idPrefix .. string.format('%0' .. a.width .. 'd', i + 1)
    local ok, message = pcall(cjson.decode, redis.call('LINDEX', k.messages, i))
    if not ok or type(message) ~= 'table' or type(message['message_id']) ~= 'string' then return i + 1, position end
    local id = message['message_id']
    if string.sub(id, 1, #a.idPrefix) == a.idPrefix then
      local digits = string.match(string.sub(id, #a.idPrefix + 1), '^%d+$')
      if digits then return tonumber(digits), id end
    end
    return i + 1, id
  end
  local low, high = 0, math.min(target, length) - 1
  local probe = high
  stop = nil
  while low <= high do
    local seq, id = numbered(probe)
    if seq == target then
      if id == a.before then stop = probe end
      break
    elseif seq < target then
      low = probe + 1
    else
      high = probe - 1
    end
    probe = math.floor((low + high) / 2)
  end
  if stop == nil then return false end
end
if stop == 0 then return {0, {}, writing, last} end
local start = stop - tonumber(a.limit)
if start < 0 then start = 0 end
return {start, redis.call('LRANGE', k.messages, start, stop - 1), writing, last}`,
});

/** The first few messages, where a chat's first user message is. */
const OPENING_MESSAGES = 20;

/**
 * Renews only our own reply's lease (and its lock): 1, 0 when the reply is no longer ours
 * (recovered elsewhere), -1 when the chat was deleted: the writer then stops.
 */
const RENEW_SCRIPT = defineScript({
  keys: ['meta', 'reply', 'lock', 'leases'],
  args: ['token', 'lockMs', 'leaseUntil', 'chatId'],
  lua: `
if redis.call('HGET', k.reply, 'token') ~= a.token then return 0 end
if redis.call('EXISTS', k.meta) == 0 then return -1 end
redis.call('PEXPIRE', k.lock, a.lockMs)
redis.call('ZADD', k.leases, 'XX', a.leaseUntil, a.chatId)
return 1`,
});

/** Gives up our own reply before it wrote anything (a regenerate with nothing to answer). */
const ABANDON_SCRIPT = defineScript({
  keys: ['reply', 'replyText', 'lock', 'leases', 'reserved'],
  args: ['token', 'chatId'],
  lua: `${REPLY_LUA}
if redis.call('HGET', k.reply, 'token') == a.token then end_reply(k.reply, k.replyText, k.lock, k.leases, k.reserved, a.token, a.chatId) end
return 1`,
});

/** Names the message a regenerated reply writes (its ID is known once the history is read). */
const NAME_REPLY_SCRIPT = defineScript({
  keys: ['reply'],
  args: ['token', 'messageId'],
  lua: `
if redis.call('HGET', k.reply, 'token') ~= a.token then return 0 end
return redis.call('HSET', k.reply, 'message_id', a.messageId)`,
});

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

/** `first`: the list index of raws[0] (a message without an ID is numbered by its position). */
const parseStoredMessages = (chatId: string, raws: string[], first = 0): Message[] =>
  raws.flatMap((raw, index) => parseStoredMessage(chatId, raw, first + index) ?? []);

export type OpenedReply = {
  /** The newest stored messages before this request's user message (at most `historyLimit`). */
  history: Message[];
  /** The saved user message (first reserved ID), or null when none was given. */
  userMessage: Message | null;
  /** The ID of the user_message event, stored with it. */
  userEventId: string | null;
  /** The ID reserved for the reply's first event (see reservedEventKey). */
  firstEventId: string;
  /** IDs reserved after the user message's, oldest first. */
  reservedIds: string[];
};

export type OpenReplyOptions = {
  /** Message numbers to reserve, the user message's included. */
  reserve: number;
  /** Saved under the first reserved ID before the script returns; its created_at becomes updated_at. */
  userMessage?: Omit<Message, 'message_id'>;
  /** The user's reply limits, taken in the same step (see reply-limits.ts). */
  admission: Admission;
  /** The signed-in user: a chat they may not write in is 'gone'. */
  writer: string;
  /** True once the writer's access to a project chat's project was checked. */
  projectChecked: boolean;
  /** How many of the newest stored messages to read as history. */
  historyLimit: number;
  /** A chat holding this many messages takes no more ('full'). */
  maxMessages: number;
  /** The reply's lock lives this long unless renewed: past the lease, so a recovery finds it. */
  lockMs: number;
  /** The reply's lease end (ms): another process recovers it after that unless renewed. */
  leaseUntil: number;
  startedAt: string;
  model: string | null;
};

/**
 * One page of a chat's messages, oldest first; `nextBefore` null at the start of the chat.
 * `writing`: the reply being written (status streaming, its text so far); `lastEventId`: the
 * chat's last event, which the page and `writing` reflect.
 */
export type MessagesPage = { messages: Message[]; nextBefore: string | null; writing: Message | null; lastEventId: string };

/** The admission was refused: `verdict` and `waitMs` for ReplyLimits.refusal. */
export type LimitedReply = { limited: { verdict: number; waitMs: number } };

/** The chat's message IDs split where the number goes, for the script to fill in. */
function messageIdParts(chatId: string) {
  const sample = formatMessageId(chatId, 1);
  return { prefix: sample.slice(0, -MESSAGE_SEQ_WIDTH), width: MESSAGE_SEQ_WIDTH };
}

/** The keys of the reply being written in a chat. */
const replyKeys = (chatId: string) => ({
  meta: metadataKey(chatId),
  reply: replyKey(chatId),
  replyText: replyTextKey(chatId),
  lock: streamLockKey(chatId),
  leases: REPLY_LEASES_KEY,
  events: eventsKey(chatId),
  reserved: reservedEventKey(chatId),
});

/** What `claimExpired` recovers: a reply whose process stopped renewing its lease. */
export const INTERRUPTED_DETAIL = 'The reply was interrupted';

/**
 * `databases`: the chat DB this client is on and the cache DB holding the reply limits;
 * `events`: the cap and retention of each chat's event stream.
 */
export function createMessagesStore(chat: RedisClient, databases: { chat: number; cache: number }, events: EventLimits) {
  const eventArgs = { maxLen: events.maxLen, retentionMs: events.retentionMs };
  const idsOf = (result: unknown): string[] | 'lost' | 'gone' => {
    if (result === -1) return 'gone';
    if (!Array.isArray(result)) return 'lost';
    return result.map(String);
  };
  return {
    /**
     * The newest `limit` messages before the message `before` (exclusive), or the newest of all
     * without it; 'unknown' when `before` (its number given as `beforeSeq`) is not in the list.
     */
    async page(chatId: string, limit: number, before?: { id: string; seq: number }): Promise<MessagesPage | 'unknown'> {
      const { prefix, width } = messageIdParts(chatId);
      const result = await PAGE_SCRIPT.run(
        chat,
        { messages: messagesKey(chatId), reply: replyKey(chatId), replyText: replyTextKey(chatId), events: eventsKey(chatId) },
        { before: before?.id ?? '', beforeSeq: before?.seq ?? 0, idPrefix: prefix, width, limit },
      );
      if (!Array.isArray(result)) return 'unknown';
      const [first, raws, reply, last] = result as [unknown, unknown, unknown, unknown];
      const start = Number(first);
      const messages = parseStoredMessages(chatId, Array.isArray(raws) ? raws.map(String) : [], start);
      // The oldest message shown is the cursor for the page before it.
      const nextBefore = start === 0 ? null : (messages[0]?.message_id ?? formatMessageId(chatId, start + 1));
      let writing: Message | null = null;
      if (Array.isArray(reply) && reply.length === 4) {
        const [messageId, createdAt, model, content] = reply.map(String) as [string, string, string, string];
        writing = { message_id: messageId, role: 'assistant', content, created_at: createdAt, status: 'streaming', ...(model ? { model } : {}) };
      }
      return { messages, nextBefore, writing, lastEventId: String(last) };
    },

    /** The chat's first user message, looked for among its first few messages only. */
    async firstUserMessage(chatId: string): Promise<Message | null> {
      if ((await chat.type(messagesKey(chatId))) !== 'list') return null;
      const opening = parseStoredMessages(chatId, await chat.lRange(messagesKey(chatId), 0, OPENING_MESSAGES - 1));
      return opening.find((message) => message.role === 'user') ?? null;
    },

    /**
     * Admits the reply against the user's limits, takes the chat's reply lock, returns the
     * newest stored messages, saves the user message (if any) and reserves `reserve` message IDs in
     * all, oldest first. `limited` over a limit, 'busy' while another reply holds the lock,
     * 'gone' when the chat was deleted or is not the writer's to write in, 'project' for a project chat
     * whose access was not checked yet, 'full' when the chat has no room for `reserve` more
     * messages; then nothing was taken or saved.
     */
    async openReply(
      chatId: string,
      token: string,
      options: OpenReplyOptions,
    ): Promise<OpenedReply | LimitedReply | 'busy' | 'gone' | 'project' | 'full'> {
      const { reserve, userMessage, admission } = options;
      if (userMessage && reserve < 1) throw new RangeError('the user message needs a reserved ID');
      const { prefix, width } = messageIdParts(chatId);
      const result = await OPEN_REPLY_SCRIPT.run(
        chat,
        { ...replyKeys(chatId), messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId), ...outboxKeys(), ...admission.keys },
        {
          token,
          lockMs: options.lockMs,
          leaseUntil: options.leaseUntil,
          startedAt: options.startedAt,
          model: options.model ?? '',
          eventsMax: events.maxLen,
          retentionMs: events.retentionMs,
          reserve,
          updatedAt: userMessage?.created_at ?? '',
          idPrefix: prefix,
          width,
          userMessage: userMessage ? JSON.stringify(userMessage) : '',
          cacheDb: databases.cache,
          chatDb: databases.chat,
          writer: options.writer,
          projectChecked: options.projectChecked ? '1' : '',
          historyMax: options.historyLimit,
          maxMessages: options.maxMessages,
          chatId,
          ...admission.args,
        },
      );
      if (result === -1) return 'gone';
      if (result === 'project') return 'project';
      if (result === 'full') return 'full';
      if (Array.isArray(result) && result[0] === 'limited') return { limited: { verdict: Number(result[1]), waitMs: Number(result[2]) } };
      if (!Array.isArray(result)) return 'busy';
      const [last, raws, first, eventId, reservedId] = result as [unknown, unknown, unknown, unknown, unknown];
      const firstEventId = String(reservedId);
      const lastSeq = Number(last);
      const ids = Array.from({ length: reserve }, (_, index) => formatMessageId(chatId, lastSeq - reserve + 1 + index));
      const history = parseStoredMessages(chatId, Array.isArray(raws) ? raws.map(String) : [], Number(first));
      if (!userMessage) return { history, userMessage: null, userEventId: null, firstEventId, reservedIds: ids };
      const [userMessageId, ...reservedIds] = ids;
      if (!userMessageId) throw new Error('no message ID was reserved');
      return { history, userMessage: { message_id: userMessageId, ...userMessage }, userEventId: String(eventId), firstEventId, reservedIds };
    },

    /** The next message ID of the chat (reserved: nobody else gets it). */
    async nextMessageId(chatId: string): Promise<string> {
      const seq = Number(await NEXT_SEQ_SCRIPT.run(chat, { messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId) }, {}));
      return formatMessageId(chatId, seq);
    },

    /** Names the message a regenerated reply writes; false when the reply is no longer ours. */
    async nameReply(chatId: string, token: string, messageId: string): Promise<boolean> {
      return Number(await NAME_REPLY_SCRIPT.run(chat, { reply: replyKey(chatId) }, { token, messageId })) > 0;
    },

    /**
     * Stores a batch of the reply's events and the text they add, the first under `firstId` (the
     * ID reserved for it) when given; their IDs, or why not.
     */
    async appendReply(chatId: string, token: string, events: string[], text: string, firstId?: string, promptTokens?: number): Promise<string[] | 'lost' | 'gone'> {
      const { meta, reply, replyText, events: stream, reserved } = replyKeys(chatId);
      return idsOf(
        await APPEND_REPLY_SCRIPT.run(
          chat,
          { meta, reply, replyText, events: stream, reserved },
          { token, events: JSON.stringify(events), text, ...eventArgs, firstId: firstId ?? '', promptTokens: promptTokens ?? '' },
        ),
      );
    },

    /** Saves the final reply and its closing events and ends it (lock, lease, `userId`'s slot). */
    async finishReply(chatId: string, token: string, userId: string, message: Message, events: string[], updatedAt: string): Promise<string[] | 'lost' | 'gone'> {
      const result = await FINISH_REPLY_SCRIPT.run(
        chat,
        { ...replyKeys(chatId), messages: messagesKey(chatId), ...outboxKeys(), slots: streamsKey(userId) },
        {
          token,
          message: JSON.stringify(message),
          messageId: message.message_id,
          updatedAt,
          chatId,
          events: JSON.stringify(events),
          ...eventArgs,
          cacheDb: databases.cache,
          chatDb: databases.chat,
        },
      );
      return idsOf(result);
    },

    /** Renews our reply's lease and lock; 'lost' when it is no longer ours, 'gone' when the chat is. */
    async renewReply(chatId: string, token: string, lockMs: number, leaseUntil: number): Promise<'ok' | 'lost' | 'gone'> {
      const { meta, reply, lock, leases } = replyKeys(chatId);
      const result = Number(await RENEW_SCRIPT.run(chat, { meta, reply, lock, leases }, { token, lockMs, leaseUntil, chatId }));
      return result === 1 ? 'ok' : result === -1 ? 'gone' : 'lost';
    },

    /** The first event of the reply being written, null when none is (or it wrote none yet). */
    async replyStart(chatId: string): Promise<string | null> {
      return (await chat.hGet(replyKey(chatId), 'start_id')) || null;
    },

    async abandonReply(chatId: string, token: string): Promise<void> {
      const { reply, replyText, lock, leases, reserved } = replyKeys(chatId);
      await ABANDON_SCRIPT.run(chat, { reply, replyText, lock, leases, reserved }, { token, chatId });
    },

    /**
     * Recovers up to `limit` replies whose lease ended before `now` (their process died): each is
     * saved as an error (INTERRUPTED_DETAIL) and its watchers told. Returns the chats recovered.
     */
    async claimExpired(now: number, limit: number): Promise<string[]> {
      const due = await chat.zRangeByScore(REPLY_LEASES_KEY, '-inf', now, { LIMIT: { offset: 0, count: limit } });
      const claimed: string[] = [];
      for (const chatId of due) {
        const [token, userId] = await chat.hmGet(replyKey(chatId), ['token', 'user_id']);
        const result = await CLAIM_REPLY_SCRIPT.run(
          chat,
          { ...replyKeys(chatId), messages: messagesKey(chatId), ...outboxKeys(), slots: streamsKey(userId ?? '') },
          { chatId, token: token ?? '', now, detail: INTERRUPTED_DETAIL, ...eventArgs, cacheDb: databases.cache, chatDb: databases.chat },
        );
        if (Number(result) === 1) claimed.push(chatId);
      }
      return claimed;
    },

    async isStreaming(chatId: string): Promise<boolean> {
      return (await chat.exists(streamLockKey(chatId))) === 1;
    },
  };
}

export type MessagesStore = ReturnType<typeof createMessagesStore>;
