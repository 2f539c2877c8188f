import { counterKeyOf, parseSessionId, SESSION_SEQ_WIDTH } from '@simorgh/contracts';
import type { Deps } from '../../deps.js';
import { defineScript } from '../../redis-script.js';
import { createdMsOf, normalizeMetadata } from './chat-metadata.js';
import { metadataKey, projectSharedKey, SHARED_PROJECTS_KEY, SHARED_PROJECTS_VERSION_LUA, userIndexKey, userPinnedKey, userSharedKey } from './chats.scripts.js';

const METADATA_KEY = /^chat:(.+):metadata$/;

/** Raises the counter to the floor, never lowers it. */
const RAISE_SCRIPT = defineScript({
  keys: ['counter'],
  args: ['floor'],
  lua: `
local current = tonumber(redis.call('GET', k.counter)) or 0
if current < tonumber(a.floor) then
  redis.call('SET', k.counter, a.floor)
  return 1
end
return 0`,
});

/** Files a project in shared:projects, raising the set's version when it joins. */
const SHARED_PROJECT_SCRIPT = defineScript({
  keys: ['sharedProjects'],
  args: ['project'],
  lua: `${SHARED_PROJECTS_VERSION_LUA}
if redis.call('SADD', k.sharedProjects, a.project) == 1 then shared_projects_grew() end
return 1`,
});

export type ReconcileReport = { scanned: number; indexed: number; countersRaised: number };

/** Per session-ID prefix (`G-202611`, `P-10234`), the highest number issued that Redis may no longer hold. */
export type IssuedElsewhere = () => Promise<Array<{ prefix: string; seq: number }>>;

/**
 * Run at start-up, before serving:
 * - raises every chat counter to at least the highest stored ID drawn from it, in Redis and
 *   in the history (`issued`: chats moved to PostgreSQL, and deleted ones), so a counter lost
 *   in a crash or flush never hands out a number again; without an answer from the history
 *   the moved chats' markers still make the creation script skip their numbers;
 * - adds chats missing from their owner's index (legacy UUID chats written by the
 *   previous system) so they show up in the list;
 * - adds pinned chats missing from their owner's pinned set (pinned by the previous system,
 *   or before the set existed): the list reads pinned chats from that set alone;
 * - files shared chats in the sharing indexes (chats.scripts.ts) they may be missing from.
 */
export async function reconcileChats(deps: Pick<Deps, 'redis' | 'logger'>, issued?: IssuedElsewhere): Promise<ReconcileReport> {
  const { chat, counters } = deps.redis;
  const highest = new Map<string, number>();
  let scanned = 0;
  let indexed = 0;
  const noteHighest = (id: string) => {
    const parts = parseSessionId(id);
    const counterKey = parts ? counterKeyOf(parts) : null;
    if (parts && parts.kind !== 'legacy' && counterKey) highest.set(counterKey, Math.max(highest.get(counterKey) ?? 0, parts.seq));
  };

  for await (const keys of chat.scanIterator({ MATCH: 'chat:*:metadata', COUNT: 1000 })) {
    const ids = keys.map((key) => METADATA_KEY.exec(key)?.[1]).filter((id): id is string => id !== undefined);
    if (ids.length === 0) continue;
    scanned += ids.length;
    for (const id of ids) noteHighest(id);
    const values = await chat.mGet(ids.map(metadataKey));
    await Promise.all(
      ids.map(async (id, index) => {
        const value = values[index];
        if (!value) return;
        let raw: unknown;
        try {
          raw = JSON.parse(value);
        } catch {
          deps.logger.warn({ chat_id: id }, 'unreadable chat metadata; left out of the index');
          return;
        }
        const metadata = normalizeMetadata(id, raw, 0);
        if (!metadata) return;
        const key = userIndexKey(metadata.user_id);
        let score = await chat.zScore(key, id);
        if (score === null) {
          score = createdMsOf(metadata);
          await chat.zAdd(key, { score, value: id });
          indexed += 1;
        }
        if (metadata.pinned) await chat.zAdd(userPinnedKey(metadata.user_id), { score, value: id });
        for (const user of metadata.allowed_users) await chat.zAdd(userSharedKey(user), { score, value: id });
        if (metadata.visibility === 'project' && metadata.project_number) {
          await chat.zAdd(projectSharedKey(metadata.project_number), { score, value: id });
          await SHARED_PROJECT_SCRIPT.run(chat, { sharedProjects: SHARED_PROJECTS_KEY }, { project: metadata.project_number });
        }
      }),
    );
  }

  if (issued) {
    try {
      for (const { prefix, seq } of await issued()) noteHighest(`${prefix}-${String(seq).padStart(SESSION_SEQ_WIDTH, '0')}`);
    } catch (error) {
      deps.logger.warn({ err: error }, 'the history did not answer: counters raised from Redis alone');
    }
  }

  let countersRaised = 0;
  for (const [counterKey, floor] of highest) {
    countersRaised += Number(await RAISE_SCRIPT.run(counters, { counter: counterKey }, { floor }));
  }
  deps.logger.info({ scanned, indexed, countersRaised }, 'chat store reconciled');
  return { scanned, indexed, countersRaised };
}
