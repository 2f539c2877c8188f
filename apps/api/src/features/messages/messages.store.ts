/**
 * Messages of a session, in the chat DB next to its metadata (key names from chats.store.ts):
 *
 *   chat:<id>:messages      LIST of JSON messages, oldest first
 *   chat:<id>:message_seq   INCR counter behind S-<id>-M-nnn (user and assistant share it)
 *   chat:<id>:streaming     a reply is being written: holds the owning stream's token, with a
 *                           lease (PX) the stream keeps renewing; one reply at a time per session
 *                           keeps the list in ID order
 *
 * Every write of the list also rewrites message_count in chat:<id>:metadata to the list's
 * length in the same Lua script, so the two can never disagree; a write for a session whose
 * metadata is gone (deleted meanwhile) is refused instead of resurrecting its messages.
 */
import { formatMessageId, MESSAGE_SEQ_WIDTH, MessageSchema, type Message } from '@simorgh/contracts';
import { evalScript, type RedisClient } from '../../redis.js';
import { messageSeqKey, messagesKey, metadataKey } from '../chats/chats.store.js';
import { ADMISSION_LUA, type Admission } from './reply-limits.js';

export const streamLockKey = (chatId: string) => `chat:${chatId}:streaming`;

/**
 * Reserves `count` message numbers; returns the last. Legacy sessions have messages but no
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

/** KEYS: messages, message_seq. */
const NEXT_SEQ_SCRIPT = `${RESERVE_SEQ_LUA}
return reserve_seq(KEYS[1], KEYS[2], 1)`;

/** Rewrites message_count (and updated_at) in the metadata JSON `raw` stored at `meta_key`. */
const SET_COUNT_LUA = `
local function set_count(meta_key, raw, length, updated_at)
  local meta = cjson.decode(raw)
  meta['message_count'] = length
  meta['updated_at'] = updated_at
  redis.call('SET', meta_key, cjson.encode(meta))
end`;

/**
 * KEYS: metadata, stream lock, messages, message_seq (chat DB), then the admission's keys (cache
 * DB). ARGV: token, lease ms, message numbers to reserve, updated_at, message ID prefix, message
 * number width, user message JSON without its message_id ('' for none), cache DB, chat DB, the
 * admission's six arguments, the owner's user ID, '1' when the caller has checked the user's
 * project access ('' otherwise).
 * Everything a reply needs before the model is called, in one round trip (one fsync wait):
 * admits it against the user's limits (cache DB, selected for that part only), checks that the
 * session is the owner's, takes the session's reply lock, reads the stored messages, reserves
 * the new messages' numbers and saves the user message under the first of them. A project
 * session needs its TPMS permission checked first (cached, in the projects feature): without
 * the flag the script stops there. Nothing is taken when the request is refused.
 * Returns {'limited', verdict, wait ms} over a limit, -1 when the session is gone or not the
 * owner's, 'project' for a project session without the flag, false when another reply holds
 * the lock, else {last reserved number (0 if none), messages before the user message}.
 */
const OPEN_REPLY_SCRIPT = `${ADMISSION_LUA}
${RESERVE_SEQ_LUA}
${SET_COUNT_LUA}
redis.call('SELECT', ARGV[8])
local verdict = admit(KEYS[5], KEYS[6], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15])
if verdict[1] ~= 0 then return {'limited', verdict[1], verdict[2] or 0} end
redis.call('SELECT', ARGV[9])
local raw = redis.call('GET', KEYS[1])
local refused = nil
local meta = nil
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then meta = decoded end
end
if not meta or meta['user_id'] ~= ARGV[16] then
  refused = -1
elseif meta['chat_type'] == 'project' and ARGV[17] ~= '1' then
  refused = 'project'
elseif not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  refused = false
end
if refused ~= nil then
  redis.call('SELECT', ARGV[8])
  refund(KEYS[5], KEYS[6], ARGV[1])
  return refused
end
local history = {}
if redis.call('TYPE', KEYS[3])['ok'] == 'list' then history = redis.call('LRANGE', KEYS[3], 0, -1) end
local seq = 0
local count = tonumber(ARGV[3])
if count > 0 then seq = reserve_seq(KEYS[3], KEYS[4], count) end
if ARGV[7] ~= '' then
  local id = ARGV[5] .. string.format('%0' .. ARGV[6] .. 'd', seq - count + 1)
  local length = redis.call('RPUSH', KEYS[3], '{"message_id":' .. cjson.encode(id) .. ',' .. string.sub(ARGV[7], 2))
  set_count(KEYS[1], raw, length, ARGV[4])
end
return {seq, history}`;

/**
 * KEYS: metadata, messages. ARGV: message JSON, message_id, updated_at.
 * Replaces the message with the same ID among the last few (a regenerated reply keeps its
 * place and ID) or appends it; then sets message_count to the list length.
 * Returns the new count, or false when the session's metadata is missing.
 */
const UPSERT_SCRIPT = `${SET_COUNT_LUA}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local length = redis.call('LLEN', KEYS[2])
local tail = redis.call('LRANGE', KEYS[2], -10, -1)
local replaced = false
for i = #tail, 1, -1 do
  local ok, decoded = pcall(cjson.decode, tail[i])
  if ok and type(decoded) == 'table' and decoded['message_id'] == ARGV[2] then
    redis.call('LSET', KEYS[2], length - #tail + i - 1, ARGV[1])
    replaced = true
    break
  end
end
if not replaced then length = redis.call('RPUSH', KEYS[2], ARGV[1]) end
set_count(KEYS[1], raw, length, ARGV[3])
return length`;

/** KEYS: lock. ARGV: token, lease ms. Renews only our own lease. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS: lock. ARGV: token. Releases only our own lock (a lapsed lease may belong to another). */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

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
  /** The signed-in user: anyone else's session is 'gone'. */
  owner: string;
  /** True once the owner's access to a project session's project was checked. */
  projectChecked: boolean;
};

/** The admission was refused: `verdict` and `waitMs` for ReplyLimits.refusal. */
export type LimitedReply = { limited: { verdict: number; waitMs: number } };

/** The session's message IDs split where the number goes, for the script to fill in. */
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
     * Admits the reply against the user's limits, takes the session's reply lock, returns the
     * stored messages, saves the user message (if any) and reserves `reserve` message IDs in
     * all, oldest first. `limited` over a limit, 'busy' while another reply holds the lock,
     * 'gone' when the session was deleted or is not the owner's, 'project' for a project session
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
      const result = await evalScript(
        chat,
        OPEN_REPLY_SCRIPT,
        [metadataKey(chatId), streamLockKey(chatId), messagesKey(chatId), messageSeqKey(chatId), ...admission.keys],
        [
          token,
          String(leaseMs),
          String(reserve),
          userMessage?.created_at ?? '',
          prefix,
          String(width),
          userMessage ? JSON.stringify(userMessage) : '',
          String(databases.cache),
          String(databases.chat),
          ...admission.args,
          options.owner,
          options.projectChecked ? '1' : '',
        ],
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

    /** The next message ID of the session (reserved: nobody else gets it). */
    async nextMessageId(chatId: string): Promise<string> {
      const seq = Number(await evalScript(chat, NEXT_SEQ_SCRIPT, [messagesKey(chatId), messageSeqKey(chatId)], []));
      return formatMessageId(chatId, seq);
    },

    /** Appends, or replaces the message with the same ID; false when the session is gone. */
    async save(chatId: string, message: Message, updatedAt: string): Promise<boolean> {
      const result = await evalScript(
        chat,
        UPSERT_SCRIPT,
        [metadataKey(chatId), messagesKey(chatId)],
        [JSON.stringify(message), message.message_id, updatedAt],
      );
      return typeof result === 'number';
    },

    async renewStreamLock(chatId: string, token: string, leaseMs: number): Promise<void> {
      await evalScript(chat, RENEW_SCRIPT, [streamLockKey(chatId)], [token, String(leaseMs)]);
    },

    async unlockStream(chatId: string, token: string): Promise<void> {
      await evalScript(chat, RELEASE_SCRIPT, [streamLockKey(chatId)], [token]);
    },

    async isStreaming(chatId: string): Promise<boolean> {
      return (await chat.exists(streamLockKey(chatId))) === 1;
    },
  };
}

export type MessagesStore = ReturnType<typeof createMessagesStore>;
