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
import { messageSeqKey, messagesKey, streamLockKey } from './messages.scripts.js';
import { ADMISSION_ARGS, ADMISSION_KEYS, ADMISSION_LUA, type Admission } from './reply-limits.js';

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
 * admits it against the user's limits (cache DB, selected for that part only), checks that the
 * chat is `owner`'s, refuses a chat that has no room for `reserve` more messages
 * (`maxMessages`), takes the chat's reply lock, reads the newest `historyMax` stored messages
 * (never the whole list: the script's cost must not grow with the chat), reserves
 * `reserve` message numbers and saves the user message (`userMessage`: its JSON without
 * message_id, '' for none) under the first of them, as `idPrefix` + the number padded to
 * `width`. A project chat needs its TPMS permission checked first (cached, in the projects
 * feature): without `projectChecked` = '1' the script stops there. Nothing is taken when the
 * request is refused.
 * Returns {'limited', verdict, wait ms} over a limit, -1 when the chat is gone or not the
 * owner's, 'project' for a project chat without the flag, 'full' when the chat has no room,
 * false when another reply holds the lock, else {last reserved number (0 if none), the newest
 * messages before the user message, the list index of the first of them}.
 */
const OPEN_REPLY_SCRIPT = defineScript({
  durable: true,
  keys: ['meta', 'lock', 'messages', 'messageSeq', 'outbox', ...ADMISSION_KEYS],
  args: ['token', 'leaseMs', 'reserve', 'updatedAt', 'idPrefix', 'width', 'userMessage', 'cacheDb', 'chatDb', 'owner', 'projectChecked', 'historyMax', 'maxMessages', 'chatId', ...ADMISSION_ARGS],
  lua: `${ADMISSION_LUA}
${RESERVE_SEQ_LUA}
${CHAT_METADATA_LUA}
${OUTBOX_LUA}
redis.call('SELECT', a.cacheDb)
local verdict = admit(k.rateLog, k.streamSlots, a.now, a.windowMs, a.perWindow, a.slotLeaseMs, a.streamLimit, a.slotToken)
if verdict[1] ~= 0 then return {'limited', verdict[1], verdict[2] or 0} end
redis.call('SELECT', a.chatDb)
local meta = load_chat(k.meta)
local count = tonumber(a.reserve)
local length = 0
if redis.call('TYPE', k.messages)['ok'] == 'list' then length = redis.call('LLEN', k.messages) end
local refused = nil
if not meta or meta['user_id'] ~= a.owner then
  refused = -1
elseif meta['chat_type'] == 'project' and a.projectChecked ~= '1' then
  refused = 'project'
elseif count > 0 and length + count > tonumber(a.maxMessages) then
  refused = 'full'
elseif not redis.call('SET', k.lock, a.token, 'NX', 'PX', a.leaseMs) then
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
if a.userMessage ~= '' then
  local id = a.idPrefix .. string.format('%0' .. a.width .. 'd', seq - count + 1)
  local message = '{"message_id":' .. cjson.encode(id) .. ',' .. string.sub(a.userMessage, 2)
  local length = redis.call('RPUSH', k.messages, message)
  outbox_message(k.outbox, a.chatId, message, set_message_count(k.meta, meta, length, a.updatedAt))
end
return {seq, history, first}`,
});

/**
 * Replaces the message with the same ID among the last few (a regenerated reply keeps its
 * place and ID) or appends it; then sets message_count to the list length.
 * Returns the new count, or false when the chat's metadata is missing.
 */
const UPSERT_SCRIPT = defineScript({
  durable: true,
  keys: ['meta', 'messages', 'outbox'],
  args: ['message', 'messageId', 'updatedAt', 'chatId'],
  lua: `${CHAT_METADATA_LUA}
${OUTBOX_LUA}
local meta = load_chat(k.meta)
if not meta then return false end
local length = redis.call('LLEN', k.messages)
local tail = redis.call('LRANGE', k.messages, -10, -1)
local replaced = false
for i = #tail, 1, -1 do
  local ok, decoded = pcall(cjson.decode, tail[i])
  if ok and type(decoded) == 'table' and decoded['message_id'] == a.messageId then
    redis.call('LSET', k.messages, length - #tail + i - 1, a.message)
    replaced = true
    break
  end
end
if not replaced then length = redis.call('RPUSH', k.messages, a.message) end
outbox_message(k.outbox, a.chatId, a.message, set_message_count(k.meta, meta, length, a.updatedAt))
return length`,
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
  keys: ['messages'],
  args: ['before', 'beforeSeq', 'idPrefix', 'width', 'limit'],
  lua: `
local is_list = redis.call('TYPE', k.messages)['ok'] == 'list'
if not is_list then
  if a.before ~= '' then return false end
  return {0, {}}
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
if stop == 0 then return {0, {}} end
local start = stop - tonumber(a.limit)
if start < 0 then start = 0 end
return {start, redis.call('LRANGE', k.messages, start, stop - 1)}`,
});

/** The first few messages, where a chat's first user message is. */
const OPENING_MESSAGES = 20;

/** Renews only our own lease. */
const RENEW_SCRIPT = defineScript({
  keys: ['lock'],
  args: ['token', 'leaseMs'],
  lua: `
if redis.call('GET', k.lock) == a.token then return redis.call('PEXPIRE', k.lock, a.leaseMs) end
return 0`,
});

/** Releases only our own lock (a lapsed lease may belong to another). */
const RELEASE_SCRIPT = defineScript({
  keys: ['lock'],
  args: ['token'],
  lua: `
if redis.call('GET', k.lock) == a.token then return redis.call('DEL', k.lock) end
return 0`,
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
  /** The signed-in user: anyone else's chat is 'gone'. */
  owner: string;
  /** True once the owner's access to a project chat's project was checked. */
  projectChecked: boolean;
  /** How many of the newest stored messages to read as history. */
  historyLimit: number;
  /** A chat holding this many messages takes no more ('full'). */
  maxMessages: number;
};

/** One page of a chat's messages, oldest first; `nextBefore` null at the start of the chat. */
export type MessagesPage = { messages: Message[]; nextBefore: string | null };

/** The admission was refused: `verdict` and `waitMs` for ReplyLimits.refusal. */
export type LimitedReply = { limited: { verdict: number; waitMs: number } };

/** The chat's message IDs split where the number goes, for the script to fill in. */
function messageIdParts(chatId: string) {
  const sample = formatMessageId(chatId, 1);
  return { prefix: sample.slice(0, -MESSAGE_SEQ_WIDTH), width: MESSAGE_SEQ_WIDTH };
}

/** `databases`: the chat DB this client is on and the cache DB holding the reply limits. */
export function createMessagesStore(chat: RedisClient, databases: { chat: number; cache: number }) {
  return {
    /**
     * The newest `limit` messages before the message `before` (exclusive), or the newest of all
     * without it; 'unknown' when `before` (its number given as `beforeSeq`) is not in the list.
     */
    async page(chatId: string, limit: number, before?: { id: string; seq: number }): Promise<MessagesPage | 'unknown'> {
      const { prefix, width } = messageIdParts(chatId);
      const result = await PAGE_SCRIPT.run(
        chat,
        { messages: messagesKey(chatId) },
        { before: before?.id ?? '', beforeSeq: before?.seq ?? 0, idPrefix: prefix, width, limit },
      );
      if (!Array.isArray(result)) return 'unknown';
      const [first, raws] = result as [unknown, unknown];
      const start = Number(first);
      const messages = parseStoredMessages(chatId, Array.isArray(raws) ? raws.map(String) : [], start);
      // The oldest message shown is the cursor for the page before it.
      const nextBefore = start === 0 ? null : (messages[0]?.message_id ?? formatMessageId(chatId, start + 1));
      return { messages, nextBefore };
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
     * 'gone' when the chat was deleted or is not the owner's, 'project' for a project chat
     * whose access was not checked yet, 'full' when the chat has no room for `reserve` more
     * messages; then nothing was taken or saved.
     */
    async openReply(
      chatId: string,
      token: string,
      leaseMs: number,
      options: OpenReplyOptions,
    ): Promise<OpenedReply | LimitedReply | 'busy' | 'gone' | 'project' | 'full'> {
      const { reserve, userMessage, admission } = options;
      if (userMessage && reserve < 1) throw new RangeError('the user message needs a reserved ID');
      const { prefix, width } = messageIdParts(chatId);
      const result = await OPEN_REPLY_SCRIPT.run(
        chat,
        { meta: metadataKey(chatId), lock: streamLockKey(chatId), messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId), ...outboxKeys(), ...admission.keys },
        {
          token,
          leaseMs,
          reserve,
          updatedAt: userMessage?.created_at ?? '',
          idPrefix: prefix,
          width,
          userMessage: userMessage ? JSON.stringify(userMessage) : '',
          cacheDb: databases.cache,
          chatDb: databases.chat,
          owner: options.owner,
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
      const [last, raws, first] = result as [unknown, unknown, unknown];
      const lastSeq = Number(last);
      const ids = Array.from({ length: reserve }, (_, index) => formatMessageId(chatId, lastSeq - reserve + 1 + index));
      const history = parseStoredMessages(chatId, Array.isArray(raws) ? raws.map(String) : [], Number(first));
      if (!userMessage) return { history, userMessage: null, reservedIds: ids };
      const [userMessageId, ...reservedIds] = ids;
      if (!userMessageId) throw new Error('no message ID was reserved');
      return { history, userMessage: { message_id: userMessageId, ...userMessage }, reservedIds };
    },

    /** The next message ID of the chat (reserved: nobody else gets it). */
    async nextMessageId(chatId: string): Promise<string> {
      const seq = Number(await NEXT_SEQ_SCRIPT.run(chat, { messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId) }, {}));
      return formatMessageId(chatId, seq);
    },

    /** Appends, or replaces the message with the same ID; false when the chat is gone. */
    async save(chatId: string, message: Message, updatedAt: string): Promise<boolean> {
      const result = await UPSERT_SCRIPT.run(
        chat,
        { meta: metadataKey(chatId), messages: messagesKey(chatId), ...outboxKeys() },
        { message: JSON.stringify(message), messageId: message.message_id, updatedAt, chatId },
      );
      return typeof result === 'number';
    },

    async renewStreamLock(chatId: string, token: string, leaseMs: number): Promise<void> {
      await RENEW_SCRIPT.run(chat, { lock: streamLockKey(chatId) }, { token, leaseMs });
    },

    async unlockStream(chatId: string, token: string): Promise<void> {
      await RELEASE_SCRIPT.run(chat, { lock: streamLockKey(chatId) }, { token });
    },

    async isStreaming(chatId: string): Promise<boolean> {
      return (await chat.exists(streamLockKey(chatId))) === 1;
    },
  };
}

export type MessagesStore = ReturnType<typeof createMessagesStore>;
