/**
 * Storage of chat chats in Redis: the chat metadata and the per-user indexes (key names
 * and the Lua other features compose are in chats.scripts.ts). The session ID counters
 * (session:counter:general:<yyyyMM>, session:counter:project:<n>) are INCR counters in the
 * counters DB (REDIS_URL's DB), never in the chat DB; CREATE_SCRIPT reaches them with a SELECT
 * of its own. `user:<id>:pinned` is kept by PATCH_SCRIPT and the delete script; start-up
 * reconciliation repairs it.
 *
 * Every script that changes a chat also queues the change for PostgreSQL in the same step
 * (the history feature's OUTBOX_LUA).
 *
 * Multi-key writes are Lua scripts (atomic, and unlike MULTI they obey the client's command
 * timeout when Redis stalls). The messages feature keeps message_count current inside its own
 * scripts (CHAT_METADATA_LUA); deleting a chat removes its messages in the same script
 * through the messages feature's DELETE_MESSAGES_LUA.
 */
import { randomUUID } from 'node:crypto';
import type { ChatVisibility, StoredChat } from '@simorgh/contracts';
import type { RedisClient } from '../../redis.js';
import { RATE_LOG_LUA } from '../../rate-log.js';
import { defineScript } from '../../redis-script.js';
import { MOVED_LUA, OUTBOX_LUA, outboxKeys } from '../history/history.scripts.js';
import { COUNT_MESSAGES_LUA, DELETE_MESSAGES_LUA, messagesKey, storedMessageKeys } from '../messages/messages.scripts.js';
import {
  CACHED_ACCESS_ARGS,
  CACHED_ACCESS_KEYS,
  CACHED_ACCESS_LUA,
  PERMITTED_MEMO_ARGS,
  PERMITTED_MEMO_KEYS,
  PERMITTED_MEMO_LUA,
  type AccessCheck,
  type PermissionsCheck,
} from '../projects/projects.scripts.js';
import {
  CHAT_METADATA_LUA,
  DELETE_CHAT_LUA,
  ID_ORDER_LUA,
  metadataKey,
  MOVED_INDEX_LUA,
  SHARED_PROJECTS_KEY,
  SHARED_PROJECTS_VERSION_KEY,
  SHARED_PROJECTS_VERSION_LUA,
  userIndexKey,
  userMovedCountKey,
  userMovedKey,
  userPinnedKey,
  userSharedKey,
} from './chats.scripts.js';

/**
 * Takes the next chat number and writes the chat in one step (one round trip, one fsync
 * wait). The counter lives in the counters DB: the script SELECTs it for the INCR only (a
 * script's SELECT never changes the caller's DB). A number whose chat already exists (the
 * counter was lost or flushed), or that names a chat moved to PostgreSQL (the history's marker),
 * is skipped, never reused. A project chat may come with an
 * access check (tpms-cache.ts), run first in the cache DB: when the cache no longer says what
 * the caller expected, nothing is written. The metadata key is built here from the number, so
 * it cannot be declared in KEYS (see docs/decisions/session-creation-one-script.md).
 *
 * The owner's limits come next, in the same step: at most `maxChats` chats (the index's ZCARD,
 * pinned chats stay in it too, plus the chats moved to PostgreSQL, `movedCount`) and `perWindow` creations per `windowMs` (a sliding log in the
 * cache DB, `rateLog`, taken here and given back if nothing is written).
 *
 * `metaTail`: the metadata JSON after its chat_id field. Returns { number, ID, numbers skipped };
 * number 0 when every attempt was taken, -1 when the access check failed, -2 over the creation
 * rate (third field: ms to wait), -3 when the user has `maxChats` chats already.
 */
const CREATE_SCRIPT = defineScript({
  durable: true,
  keys: ['counter', 'index', 'movedCount', 'rateLog', 'outbox'],
  optionalKeys: CACHED_ACCESS_KEYS,
  args: ['countersDb', 'chatDb', 'cacheDb', 'idPrefix', 'width', 'metaTail', 'score', 'maxAttempts', 'maxChats', 'now', 'windowMs', 'perWindow', 'token', ...CACHED_ACCESS_ARGS],
  lua: `${CACHED_ACCESS_LUA}
${RATE_LOG_LUA}
${OUTBOX_LUA}
${MOVED_LUA}
if k.tpmsProject then
  redis.call('SELECT', a.cacheDb)
  if not cached_access(k.tpmsProject, k.tpmsPermission, a.tpmsExpected) then return { -1, '', 0 } end
end
redis.call('SELECT', a.chatDb)
if redis.call('ZCARD', k.index) + tonumber(redis.call('GET', k.movedCount) or '0') >= tonumber(a.maxChats) then return { -3, '', 0 } end
redis.call('SELECT', a.cacheDb)
local wait = rate_log_take(k.rateLog, a.now, a.windowMs, a.perWindow, a.token)
if wait > 0 then return { -2, '', wait } end
local skipped = 0
for attempt = 1, tonumber(a.maxAttempts) do
  redis.call('SELECT', a.countersDb)
  local seq = redis.call('INCR', k.counter)
  redis.call('SELECT', a.chatDb)
  local id = a.idPrefix .. string.format('%0' .. a.width .. 'd', seq)
  local meta = '{"chat_id":"' .. id .. '",' .. a.metaTail
  if not is_moved(id) and redis.call('SET', 'chat:' .. id .. ':metadata', meta, 'NX') then
    redis.call('ZADD', k.index, a.score, id)
    outbox_chat(k.outbox, id, meta)
    return { seq, id, skipped }
  end
  skipped = skipped + 1
end
redis.call('SELECT', a.cacheDb)
rate_log_refund(k.rateLog, a.token)
return { 0, '', skipped }`,
});

/** Give up after this many taken numbers in a row; start-up reconciliation should prevent it. */
const MAX_CREATE_ATTEMPTS = 10_000;

/**
 * Lua keeping the sharing indexes (chats.scripts.ts) in step with a chat's metadata. The keys are
 * built here from the user IDs and the project number the metadata holds, so they cannot be
 * declared in KEYS; like the creation script's metadata key (see
 * docs/decisions/session-creation-one-script.md), this holds on one Redis, not a cluster.
 *   allowed_of(meta)     the metadata's allowed_users, as a list (empty when absent)
 *   reindex_sharing(chat_id, score, project, old_users, new_users, visible)
 *                        files the chat under each new user and the project ('' for none) when
 *                        `visible`, and takes it out from under the users dropped and the project
 *                        otherwise; shared:projects keeps the projects with any visible chat
 *                        (its version raised when one joins)
 * An empty allowed_users is never stored: cjson writes an empty table as {}, not [], and every
 * script that rewrites the metadata would turn [] into {}. Readers default it to [].
 */
const SHARING_LUA = `${SHARED_PROJECTS_VERSION_LUA}
local function allowed_of(meta)
  local users = {}
  if type(meta['allowed_users']) == 'table' then
    for _, user in ipairs(meta['allowed_users']) do
      if type(user) == 'string' then users[#users + 1] = user end
    end
  end
  return users
end
local function reindex_sharing(chat_id, score, project, old_users, new_users, visible)
  local kept = {}
  for _, user in ipairs(new_users) do
    kept[user] = true
    redis.call('ZADD', 'user:' .. user .. ':shared', score, chat_id)
  end
  for _, user in ipairs(old_users) do
    if not kept[user] then redis.call('ZREM', 'user:' .. user .. ':shared', chat_id) end
  end
  if project == '' then return end
  local key = 'project:' .. project .. ':shared'
  if visible then
    redis.call('ZADD', key, score, chat_id)
    if redis.call('SADD', '${SHARED_PROJECTS_KEY}', project) == 1 then shared_projects_grew() end
  else
    redis.call('ZREM', key, chat_id)
    if redis.call('ZCARD', key) == 0 then redis.call('SREM', '${SHARED_PROJECTS_KEY}', project) end
  end
end`;

/**
 * Applies `patch` (JSON) to the stored metadata in one step. `guardField` ('' for none) must
 * still hold `guardValue` (compare-and-set). The index keys are given only when the patch may
 * change `pinned`: the chat then moves between the index and the pinned set in the same step.
 * `sharing` ('' for none) is JSON `{users?, visibility?}`: the new allowed_users and/or
 * visibility, filed in the sharing indexes under `project` ('' for a general chat) with `score`
 * (the creation time) in the same step.
 * Returns the new JSON, or false when the key is missing or the guard failed.
 */
const PATCH_SCRIPT = defineScript({
  keys: ['meta', 'outbox'],
  optionalKeys: ['index', 'pinned'],
  args: ['patch', 'guardField', 'guardValue', 'chatId', 'sharing', 'project', 'score'],
  lua: `${OUTBOX_LUA}
${SHARING_LUA}
local raw = redis.call('GET', k.meta)
if not raw then return false end
local meta = cjson.decode(raw)
if a.guardField ~= '' and meta[a.guardField] ~= a.guardValue then return false end
for field, value in pairs(cjson.decode(a.patch)) do meta[field] = value end
if a.sharing ~= '' then
  local change = cjson.decode(a.sharing)
  local old_users = allowed_of(meta)
  local new_users = old_users
  if type(change['users']) == 'table' then new_users = change['users'] end
  if type(change['visibility']) == 'string' then meta['visibility'] = change['visibility'] end
  if #new_users > 0 then meta['allowed_users'] = new_users else meta['allowed_users'] = nil end
  reindex_sharing(a.chatId, a.score, a.project, old_users, new_users, meta['visibility'] == 'project')
end
local encoded = cjson.encode(meta)
redis.call('SET', k.meta, encoded)
outbox_chat(k.outbox, a.chatId, encoded)
if k.pinned then
  local score = redis.call('ZSCORE', k.index, a.chatId)
  if meta['pinned'] == true and score then
    redis.call('ZADD', k.pinned, score, a.chatId)
  else
    redis.call('ZREM', k.pinned, a.chatId)
  end
end
return encoded`,
});

/**
 * Removes the chat, its messages and its index entries (sharing ones under `project` included)
 * together, hot or moved to PostgreSQL. `createdMs`: where a moved chat is filed (see unindex_moved).
 */
const DELETE_SCRIPT = defineScript({
  keys: ['meta', 'index', 'pinned', 'messages', 'messageSeq', 'outbox'],
  args: ['chatId', 'project', 'users', 'owner', 'createdMs'],
  lua: `${DELETE_MESSAGES_LUA}
${OUTBOX_LUA}
${MOVED_LUA}
${MOVED_INDEX_LUA}
${DELETE_CHAT_LUA}
${CHAT_METADATA_LUA}
${SHARING_LUA}
local meta = load_chat(k.meta)
-- A chat moved to PostgreSQL has no metadata here: its users come from the caller's read of it.
local shared_with = cjson.decode(a.users)
if meta then shared_with = allowed_of(meta) end
reindex_sharing(a.chatId, 0, a.project, shared_with, {}, false)
delete_chat(k.meta, k.index, k.pinned, k.messages, k.messageSeq, k.outbox, a.chatId, a.owner, a.createdMs)
return 1`,
});

/**
 * Up to `count` of the owner's moved chats (MOVED_INDEX_LUA's buckets) in list order, newest
 * first (score, then ID, descending), strictly after the position (`maxScore`, `afterId`); from
 * the newest when `afterId` is ''. Flat [id, score, version, ...], the version each was moved at
 * as its marker names it (the history's MOVED_LUA; '' without a marker), so the list needs no
 * other read to find its copy. Read-only.
 */
const MOVED_RANGE_SCRIPT = defineScript({
  keys: ['dir'],
  args: ['owner', 'maxScore', 'afterId', 'count'],
  lua: `${MOVED_LUA}
${MOVED_INDEX_LUA}
local bounded = a.afterId ~= ''
local top = bounded and a.maxScore or '+inf'
local max = tonumber(a.maxScore)
local limit = tonumber(a.count) * 3
local found = {}
local offset = 0
while #found < limit do
  local bounds = redis.call('ZRANGE', k.dir, top, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, 16)
  if #bounds == 0 then break end
  for _, bound in ipairs(bounds) do
    -- As many as still wanted, then more while entries at the position's score (already seen) take their place.
    local key = moved_bucket_key(a.owner, bound)
    local skip = 0
    repeat
      local want = (limit - #found) / 3
      local entries = redis.call('ZRANGE', key, top, '-inf', 'BYSCORE', 'REV', 'LIMIT', skip, want, 'WITHSCORES')
      skip = skip + #entries / 2
      for i = 1, #entries, 2 do
        local score = tonumber(entries[i + 1])
        if not bounded or score < max or (score == max and id_before(entries[i], a.afterId)) then
          found[#found + 1] = entries[i]
          found[#found + 1] = entries[i + 1]
          found[#found + 1] = ''
        end
      end
      if #found >= limit then break end
    until #entries < want * 2
    if #found >= limit then break end
  end
  if #found >= limit then break end
  offset = offset + 16
end
-- The markers' versions: one HMGET per marker hash (a page's chats often share one).
local by_key = {}
for i = 1, #found, 3 do
  local key = moved_key(found[i])
  local group = by_key[key]
  if not group then
    group = { fields = {}, at = {} }
    by_key[key] = group
  end
  group.fields[#group.fields + 1] = moved_field(found[i])
  group.at[#group.at + 1] = i
end
for key, group in pairs(by_key) do
  local markers = redis.call('HMGET', key, unpack(group.fields))
  for j, i in ipairs(group.at) do
    local marker = markers[j] or moved_marker(found[i])
    if marker then found[i + 2] = (marker_parts(marker)) end
  end
end
return found`,
});

const COUNT_SCRIPT = defineScript({
  keys: ['messages'],
  lua: `${COUNT_MESSAGES_LUA}
return count_messages(k.messages)`,
});

export type MetadataPatch = Partial<Pick<StoredChat, 'chat_name' | 'status' | 'pinned' | 'updated_at'>>;

/** A change of who may open a chat, with where the chat is filed (its project, its creation time). */
export type SharingChange = {
  users?: string[];
  visibility?: ChatVisibility;
  /** The chat's project number, null for a general chat. */
  project: string | null;
  createdMs: number;
};

export type NewSession = { seq: number; chatId: string; skipped: number };

/** Per-user limits on creating chats, checked by the creation script. */
export type CreationLimits = { perMinute: number; maxChats: number };

/** Why the creation script wrote nothing though the access check passed. */
export type CreationRefusal = { limited: { waitMs: number } } | 'quota';

/**
 * The projects with chats shared with everyone on them (shared:projects) that the TPMS cache says
 * one user has permission on: `[allowed joined by ',', unknown]` (unknown: nothing cached, TPMS
 * must be asked). Answered from the user's memo in the cache DB (`permitted_among`,
 * projects.scripts.ts) while it was made for the set's current version: two GETs, whatever the
 * set's size. Otherwise every project's answer is read (O(projects with shared chats)) and, when
 * all are cached, remembered for the user. The permission keys are built in the script, so this
 * holds on one Redis, not a cluster, like the sharing scripts.
 */
const SHARED_PROJECTS_PERMITTED_SCRIPT = defineScript({
  keys: ['sharedProjects', 'sharedVersion', ...PERMITTED_MEMO_KEYS],
  args: ['chatDb', 'cacheDb', ...PERMITTED_MEMO_ARGS],
  lua: `${SHARED_PROJECTS_VERSION_LUA}
${PERMITTED_MEMO_LUA}
local version = shared_projects_version()
redis.call('SELECT', a.cacheDb)
local remembered = remembered_permitted(k.tpmsPermitted, version)
if remembered then return { remembered, {} } end
redis.call('SELECT', a.chatDb)
local projects = redis.call('SMEMBERS', k.sharedProjects)
redis.call('SELECT', a.cacheDb)
local allowed, unknown = permitted_among(projects, a.tpmsPermPrefix, a.tpmsPermSuffix, k.tpmsPermitted, version, a.tpmsPermittedMaxMs)
return { table.concat(allowed, ','), unknown }`,
});

/**
 * The newest entry of each project's index of chats visible to the project (`project:<n>:shared`,
 * the key built here from the number, like the sharing scripts' keys) strictly after the position
 * (`maxScore`, `afterId`; from the newest when `afterId` is ''): flat [project, id, score, ...], a
 * project without such an entry left out. One call instead of one per project: the shared list of
 * a reader on thousands of projects reads every index's head on each page. Read-only.
 */
const PROJECT_HEADS_SCRIPT = defineScript({
  keys: [],
  args: ['projects', 'maxScore', 'afterId'],
  lua: `${ID_ORDER_LUA}
local bounded = a.afterId ~= ''
local top = bounded and a.maxScore or '+inf'
local max = tonumber(a.maxScore)
local found = {}
for project in string.gmatch(a.projects, '[^,]+') do
  local key = 'project:' .. project .. ':shared'
  local offset = 0
  repeat
    local entries = redis.call('ZRANGE', key, top, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, 4, 'WITHSCORES')
    local head = nil
    for i = 1, #entries, 2 do
      if not bounded or tonumber(entries[i + 1]) < max or id_before(entries[i], a.afterId) then
        head = i
        break
      end
    end
    if head then
      found[#found + 1] = project
      found[#found + 1] = entries[head]
      found[#found + 1] = entries[head + 1]
    end
    offset = offset + 4
  until head or #entries < 8
end
return found`,
});

/**
 * Projects one PROJECT_HEADS_SCRIPT call reads at most: a call holds Redis, one thread for every
 * process, ~9 µs per project (0.9 ms for 100, measured at load 13), so a long list is split.
 */
const HEADS_PER_CALL = 100;

const CREATION_WINDOW_MS = 60_000;
/** The cache-DB sliding log of a user's recent creations (see rate-log.ts). */
const creationLogKey = (userId: string) => `ratelimit:chats:${userId}`;

/** `databases`: the counters DB (REDIS_URL's), the chat DB this client is on, the TPMS cache DB. */
export function createChatsStore(chat: RedisClient, databases: { counters: number; chat: number; cache: number }) {
  async function patch(
    chatId: string,
    changes: MetadataPatch,
    options: { guard?: { field: 'chat_name' | 'user_id'; value: string }; owner?: string; sharing?: SharingChange | null } = {},
  ): Promise<unknown | null> {
    const { owner, sharing } = options;
    const keys = changes.pinned !== undefined && owner !== undefined
      ? { meta: metadataKey(chatId), ...outboxKeys(), index: userIndexKey(owner), pinned: userPinnedKey(owner) }
      : { meta: metadataKey(chatId), ...outboxKeys() };
    const result = await PATCH_SCRIPT.run(chat, keys, {
      patch: JSON.stringify(changes),
      guardField: options.guard?.field ?? '',
      guardValue: options.guard?.value ?? '',
      chatId,
      sharing: sharing ? JSON.stringify({ users: sharing.users, visibility: sharing.visibility }) : '',
      project: sharing?.project ?? '',
      score: sharing?.createdMs ?? 0,
    });
    return typeof result === 'string' ? (JSON.parse(result) as unknown) : null;
  }

  return {
    /**
     * Numbers and stores a new chat: `idPrefix` + the counter's next number, zero-padded to
     * `width`. `metadata` is everything but chat_id. seq is 0 when no free number was found;
     * 'unverified' when `access` was given and the cache did not confirm it; `limited` over the
     * user's creation rate, 'quota' at the user's chat limit (nothing written).
     */
    async createWithNextId(options: {
      counterKey: string;
      idPrefix: string;
      width: number;
      /** Stored as given: an empty allowed_users is left out (see SHARING_LUA). */
      metadata: Omit<StoredChat, 'chat_id' | 'allowed_users'>;
      /** Creation time (the index score), also the time the rate log is taken at. */
      createdMs: number;
      access?: AccessCheck | undefined;
      limits: CreationLimits;
    }): Promise<NewSession | 'unverified' | CreationRefusal> {
      const { access } = options;
      const userId = options.metadata.user_id;
      const keys = { counter: options.counterKey, index: userIndexKey(userId), movedCount: userMovedCountKey(userId), rateLog: creationLogKey(userId), ...outboxKeys() };
      const result = (await CREATE_SCRIPT.run(chat, access ? { ...keys, ...access.keys } : keys, {
        countersDb: databases.counters,
        chatDb: databases.chat,
        cacheDb: databases.cache,
        idPrefix: options.idPrefix,
        width: options.width,
        metaTail: JSON.stringify(options.metadata).slice(1),
        score: options.createdMs,
        maxAttempts: MAX_CREATE_ATTEMPTS,
        maxChats: options.limits.maxChats,
        now: options.createdMs,
        windowMs: CREATION_WINDOW_MS,
        perWindow: options.limits.perMinute,
        token: randomUUID(),
        tpmsExpected: access ? access.args.tpmsExpected : '',
      })) as [number, string, number];
      const seq = Number(result[0]);
      if (seq === -1) return 'unverified';
      if (seq === -2) return { limited: { waitMs: Number(result[2]) } };
      if (seq === -3) return 'quota';
      return { seq, chatId: String(result[1]), skipped: Number(result[2]) };
    },

    /** Parsed stored JSON (possibly legacy-shaped), or null when absent or unreadable. */
    async getRaw(chatId: string): Promise<unknown | null> {
      const value = await chat.get(metadataKey(chatId));
      return parseJson(value);
    },

    /** The stored metadata texts, unparsed (the list remembers what it made of each). */
    async getManyStored(chatIds: string[]): Promise<Array<string | null>> {
      if (chatIds.length === 0) return [];
      return chat.mGet(chatIds.map(metadataKey));
    },

    async countMessages(chatId: string): Promise<number> {
      return Number(await COUNT_SCRIPT.run(chat, { messages: messagesKey(chatId) }, {}));
    },

    /**
     * Up to `count` entries of an index ZSET, newest first, with score <= `maxScore`, skipping
     * the first `offset` of them (entries sharing `maxScore` already seen).
     */
    async rangeNewestFirst(key: string, maxScore: number, offset: number, count: number): Promise<IndexEntry[]> {
      const max = maxScore === Number.POSITIVE_INFINITY ? '+inf' : String(maxScore);
      const entries = await chat.zRangeWithScores(key, max, '-inf', { BY: 'SCORE', REV: true, LIMIT: { offset, count } });
      return entries.map((entry) => ({ id: String(entry.value), score: entry.score }));
    },

    /** PROJECT_HEADS_SCRIPT over `projects`, a few calls at a time: the newest entry of each project's index strictly after `after`. */
    async projectHeadsNewestFirst(projects: string[], after: { score: number; id: string } | null): Promise<Map<string, IndexEntry>> {
      const calls: Array<Promise<unknown>> = [];
      for (let start = 0; start < projects.length; start += HEADS_PER_CALL) {
        const batch = projects.slice(start, start + HEADS_PER_CALL).join(',');
        calls.push(PROJECT_HEADS_SCRIPT.run(chat, {}, { projects: batch, maxScore: after?.score ?? 0, afterId: after?.id ?? '' }));
      }
      const heads = new Map<string, IndexEntry>();
      for (const flat of (await Promise.all(calls)) as string[][]) {
        for (let index = 0; index + 2 < flat.length; index += 3) heads.set(String(flat[index]), { id: String(flat[index + 1]), score: Number(flat[index + 2]) });
      }
      return heads;
    },

    /**
     * Up to `count` of the user's chats moved to PostgreSQL, newest first, strictly after
     * `after` (from the newest when null).
     */
    async movedNewestFirst(userId: string, after: IndexEntry | null, count: number): Promise<IndexEntry[]> {
      const flat = (await MOVED_RANGE_SCRIPT.run(chat, { dir: userMovedKey(userId) }, {
        owner: userId,
        maxScore: after?.score ?? 0,
        afterId: after?.id ?? '',
        count,
      })) as string[];
      const entries: IndexEntry[] = [];
      for (let index = 0; index + 2 < flat.length; index += 3) {
        const version = String(flat[index + 2]);
        entries.push({ id: String(flat[index]), score: Number(flat[index + 1]), ...(version === '' ? {} : { movedAt: version }) });
      }
      return entries;
    },

    /** Applies the patch; `guard`: only while that field still holds that value. */
    patch,

    /**
     * `project` (null for a general chat) and `users`: where its sharing is filed, and
     * `createdMs` its index score, as the caller read it.
     */
    async delete(chatId: string, userId: string, filed: { project: string | null; users: string[]; createdMs: number }): Promise<void> {
      await DELETE_SCRIPT.run(
        chat,
        { meta: metadataKey(chatId), index: userIndexKey(userId), pinned: userPinnedKey(userId), ...storedMessageKeys(chatId), ...outboxKeys() },
        { chatId, project: filed.project ?? '', users: JSON.stringify(filed.users), owner: userId, createdMs: filed.createdMs },
      );
    },

    /** The newest `max` chats shared with the user by name (IDs only). */
    async sharedByName(userId: string, max: number): Promise<string[]> {
      return chat.zRange(userSharedKey(userId), 0, max - 1, { REV: true });
    },

    /** The projects that have chats shared with everyone on them, by the user's cached permission (SHARED_PROJECTS_PERMITTED_SCRIPT). */
    async sharedProjectsByPermission(check: PermissionsCheck): Promise<{ allowed: string[]; unknown: string[] }> {
      const [allowed, unknown] = (await SHARED_PROJECTS_PERMITTED_SCRIPT.run(
        chat,
        { sharedProjects: SHARED_PROJECTS_KEY, sharedVersion: SHARED_PROJECTS_VERSION_KEY, ...check.keys },
        { chatDb: databases.chat, cacheDb: databases.cache, ...check.args },
      )) as [string, string[]];
      return { allowed: allowed === '' ? [] : allowed.split(','), unknown };
    },
  };
}

export type ChatsStore = ReturnType<typeof createChatsStore>;
/** `movedAt`: for a chat read from the moved-chats buckets, the version its marker names. */
export type IndexEntry = { id: string; score: number; movedAt?: string };

function parseJson(value: string | null): unknown | null {
  if (value === null) return null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}
