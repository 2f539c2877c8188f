/**
 * Messages of a chat, in the chat DB next to its metadata (key names in messages.scripts.ts).
 *
 * Every write of the list also rewrites message_count in the chat's metadata to the list's
 * length in the same Lua script (through the chats feature's CHAT_METADATA_LUA), so the two can
 * never disagree; a write for a chat whose metadata is gone (deleted meanwhile) is refused
 * instead of resurrecting its messages.
 */
import { formatMessageId, MESSAGE_SEQ_WIDTH, MessageSchema, type Message } from '@simorgh/contracts';
import type { RedisClient } from '../../redis.js';
import { defineScript } from '../../redis-script.js';
import { CHAT_METADATA_LUA, metadataKey } from '../chats/chats.scripts.js';
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
 * chat is `owner`'s, takes the chat's reply lock, reads the stored messages, reserves
 * `reserve` message numbers and saves the user message (`userMessage`: its JSON without
 * message_id, '' for none) under the first of them, as `idPrefix` + the number padded to
 * `width`. A project chat needs its TPMS permission checked first (cached, in the projects
 * feature): without `projectChecked` = '1' the script stops there. Nothing is taken when the
 * request is refused.
 * Returns {'limited', verdict, wait ms} over a limit, -1 when the chat is gone or not the
 * owner's, 'project' for a project chat without the flag, false when another reply holds
 * the lock, else {last reserved number (0 if none), messages before the user message}.
 */
const OPEN_REPLY_SCRIPT = defineScript({
  keys: ['meta', 'lock', 'messages', 'messageSeq', ...ADMISSION_KEYS],
  args: ['token', 'leaseMs', 'reserve', 'updatedAt', 'idPrefix', 'width', 'userMessage', 'cacheDb', 'chatDb', 'owner', 'projectChecked', ...ADMISSION_ARGS],
  lua: `${ADMISSION_LUA}
${RESERVE_SEQ_LUA}
${CHAT_METADATA_LUA}
redis.call('SELECT', a.cacheDb)
local verdict = admit(k.rateLog, k.streamSlots, a.now, a.windowMs, a.perWindow, a.slotLeaseMs, a.streamLimit, a.slotToken)
if verdict[1] ~= 0 then return {'limited', verdict[1], verdict[2] or 0} end
redis.call('SELECT', a.chatDb)
local meta = load_chat(k.meta)
local refused = nil
if not meta or meta['user_id'] ~= a.owner then
  refused = -1
elseif meta['chat_type'] == 'project' and a.projectChecked ~= '1' then
  refused = 'project'
elseif not redis.call('SET', k.lock, a.token, 'NX', 'PX', a.leaseMs) then
  refused = false
end
if refused ~= nil then
  redis.call('SELECT', a.cacheDb)
  refund(k.rateLog, k.streamSlots, a.slotToken)
  return refused
end
local history = {}
if redis.call('TYPE', k.messages)['ok'] == 'list' then history = redis.call('LRANGE', k.messages, 0, -1) end
local seq = 0
local count = tonumber(a.reserve)
if count > 0 then seq = reserve_seq(k.messages, k.messageSeq, count) end
if a.userMessage ~= '' then
  local id = a.idPrefix .. string.format('%0' .. a.width .. 'd', seq - count + 1)
  local length = redis.call('RPUSH', k.messages, '{"message_id":' .. cjson.encode(id) .. ',' .. string.sub(a.userMessage, 2))
  set_message_count(k.meta, meta, length, a.updatedAt)
end
return {seq, history}`,
});

/**
 * Replaces the message with the same ID among the last few (a regenerated reply keeps its
 * place and ID) or appends it; then sets message_count to the list length.
 * Returns the new count, or false when the chat's metadata is missing.
 */
const UPSERT_SCRIPT = defineScript({
  keys: ['meta', 'messages'],
  args: ['message', 'messageId', 'updatedAt'],
  lua: `${CHAT_METADATA_LUA}
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
set_message_count(k.meta, meta, length, a.updatedAt)
return length`,
});

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

const parseStoredMessages = (chatId: string, raws: string[]): Message[] =>
  raws.flatMap((raw, index) => parseStoredMessage(chatId, raw, index) ?? []);

export type OpenedReply = {
  /** Stored messages before this request's user message. */
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
};

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
    async list(chatId: string): Promise<Message[]> {
      if ((await chat.type(messagesKey(chatId))) !== 'list') return [];
      return parseStoredMessages(chatId, await chat.lRange(messagesKey(chatId), 0, -1));
    },

    /**
     * Admits the reply against the user's limits, takes the chat's reply lock, returns the
     * stored messages, saves the user message (if any) and reserves `reserve` message IDs in
     * all, oldest first. `limited` over a limit, 'busy' while another reply holds the lock,
     * 'gone' when the chat was deleted or is not the owner's, 'project' for a project chat
     * whose access was not checked yet; then nothing was taken or saved.
     */
    async openReply(
      chatId: string,
      token: string,
      leaseMs: number,
      options: OpenReplyOptions,
    ): Promise<OpenedReply | LimitedReply | 'busy' | 'gone' | 'project'> {
      const { reserve, userMessage, admission } = options;
      if (userMessage && reserve < 1) throw new RangeError('the user message needs a reserved ID');
      const { prefix, width } = messageIdParts(chatId);
      const result = await OPEN_REPLY_SCRIPT.run(
        chat,
        { meta: metadataKey(chatId), lock: streamLockKey(chatId), messages: messagesKey(chatId), messageSeq: messageSeqKey(chatId), ...admission.keys },
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
          ...admission.args,
        },
      );
      if (result === -1) return 'gone';
      if (result === 'project') return 'project';
      if (Array.isArray(result) && result[0] === 'limited') return { limited: { verdict: Number(result[1]), waitMs: Number(result[2]) } };
      if (!Array.isArray(result)) return 'busy';
      const [last, raws] = result as [unknown, unknown];
      const lastSeq = Number(last);
      const ids = Array.from({ length: reserve }, (_, index) => formatMessageId(chatId, lastSeq - reserve + 1 + index));
      const history = parseStoredMessages(chatId, Array.isArray(raws) ? raws.map(String) : []);
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
        { meta: metadataKey(chatId), messages: messagesKey(chatId) },
        { message: JSON.stringify(message), messageId: message.message_id, updatedAt },
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
