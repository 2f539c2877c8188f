import type { RedisClient } from '../../redis.js';
import { defineScript } from '../../redis-script.js';
import type { AccessCheck, PermissionsCheck } from './projects.scripts.js';

/**
 * Cached TPMS answers in the cache DB:
 *   tpms:project:<n>         JSON {"name": string} when found, "missing" when not
 *   tpms:perm:<n>:<user_id>  "1" allowed, "0" denied
 *   tpms:permitted:<user_id> what `permitted_among` (projects.scripts.ts) last found of the user's
 *                            answers on a candidate set: "<version>|<allowed, comma-separated>",
 *                            living no longer than the earliest of those answers
 * Positive answers live TPMS_CACHE_TTL_S, negative ones TPMS_NEGATIVE_CACHE_TTL_S; errors
 * are never written, so an outage cannot be remembered as "not found" or "denied". Every write or
 * removal of a user's answers drops that user's memo in the same step (CHANGE_SCRIPT), so the
 * memo can never say more than the answers say.
 */
const MISSING = 'missing';
/** Answers one script writes at most (one round trip each; the client's command queue stays short). */
const WRITES_PER_SCRIPT = 500;
const projectKey = (projectNumber: string) => `tpms:project:${projectNumber}`;
const PERMISSION_PREFIX = 'tpms:perm:';
const permissionSuffix = (userId: string) => `:${userId}`;
const permissionKey = (projectNumber: string, userId: string) => `${PERMISSION_PREFIX}${projectNumber}${permissionSuffix(userId)}`;
const permittedKey = (userId: string) => `tpms:permitted:${userId}`;

/**
 * Writes answers (`set`: [key, value, seconds]), removes answers (`removed`) and drops memos
 * (`memos`: those of every user whose answers change) in one step; returns how many of `removed`
 * existed. The keys are built by this file and travel as arguments (JSON), like the sharing
 * scripts' computed keys: one Redis, not a cluster.
 */
const CHANGE_SCRIPT = defineScript({
  keys: [],
  args: ['set', 'removed', 'memos'],
  lua: `
for _, entry in ipairs(cjson.decode(a.set)) do redis.call('SET', entry[1], entry[2], 'EX', entry[3]) end
local removed = cjson.decode(a.removed)
local count = 0
if #removed > 0 then count = redis.call('DEL', unpack(removed)) end
local memos = cjson.decode(a.memos)
if #memos > 0 then redis.call('DEL', unpack(memos)) end
return count`,
});

/** Escapes glob characters so a user name is matched literally by SCAN MATCH. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);

export type CachedProject = { found: true; name: string } | { found: false };

const encodeProject = (answer: CachedProject) => (answer.found ? JSON.stringify({ name: answer.name }) : MISSING);

function parseProject(value: string | null): CachedProject | null {
  if (value === null) return null;
  if (value === MISSING) return { found: false };
  try {
    const parsed = JSON.parse(value) as { name?: unknown };
    return typeof parsed.name === 'string' ? { found: true, name: parsed.name } : null;
  } catch {
    return null;
  }
}

export function createTpmsCache(cache: RedisClient, ttl: { positive: number; negative: number }) {
  const change = async (changes: { set?: Array<[string, string, number]>; removed?: string[]; memos: string[] }): Promise<number> =>
    Number(await CHANGE_SCRIPT.run(cache, {}, { set: JSON.stringify(changes.set ?? []), removed: JSON.stringify(changes.removed ?? []), memos: JSON.stringify(changes.memos) }));

  /** Removes the answers matching `pattern`, each batch with the memos of the users `userOf` names. */
  async function deleteMatching(pattern: string, userOf: (key: string) => string): Promise<number> {
    let deleted = 0;
    for await (const keys of cache.scanIterator({ MATCH: pattern, COUNT: 500 })) {
      if (keys.length > 0) deleted += await change({ removed: keys, memos: [...new Set(keys.map((key) => permittedKey(userOf(key))))] });
    }
    return deleted;
  }

  /**
   * Caches many answers, a script per WRITES_PER_SCRIPT: a reader on thousands of projects must
   * not fill the client's bounded command queue (MAX_QUEUED_COMMANDS in redis.ts) and fail with 503.
   */
  async function setPermissions(answers: Array<[projectNumber: string, userId: string, allowed: boolean]>): Promise<void> {
    const writes: Array<Promise<number>> = [];
    for (let start = 0; start < answers.length; start += WRITES_PER_SCRIPT) {
      const chunk = answers.slice(start, start + WRITES_PER_SCRIPT);
      writes.push(
        change({
          set: chunk.map(([projectNumber, userId, allowed]) => [permissionKey(projectNumber, userId), allowed ? '1' : '0', allowed ? ttl.positive : ttl.negative]),
          memos: [...new Set(chunk.map(([, userId]) => permittedKey(userId)))],
        }),
      );
    }
    await Promise.all(writes);
  }

  return {
    /** Both cached answers for a project/user pair in one round trip; null where none is cached. */
    async getAccess(projectNumber: string, userId: string): Promise<{ project: CachedProject | null; allowed: boolean | null }> {
      const [project, permission] = await cache.mGet([projectKey(projectNumber), permissionKey(projectNumber, userId)]);
      return { project: parseProject(project ?? null), allowed: permission == null ? null : permission === '1' };
    },
    /** The cached permission of each project/user pair, in order; null where none is cached. */
    async getPermissions(pairs: Array<[string, string]>): Promise<Array<boolean | null>> {
      if (pairs.length === 0) return [];
      const values = await cache.mGet(pairs.map(([projectNumber, userId]) => permissionKey(projectNumber, userId)));
      return values.map((value) => (value == null ? null : value === '1'));
    },
    accessCheck(projectNumber: string, userId: string, name: string): AccessCheck {
      return {
        keys: { tpmsProject: projectKey(projectNumber), tpmsPermission: permissionKey(projectNumber, userId) },
        args: { tpmsExpected: encodeProject({ found: true, name }) },
      };
    },
    /** What a script needs to read this user's cached permissions and memo itself (`permitted_among`). */
    permissionsCheck(userId: string): PermissionsCheck {
      return {
        keys: { tpmsPermitted: permittedKey(userId) },
        args: { tpmsPermPrefix: PERMISSION_PREFIX, tpmsPermSuffix: permissionSuffix(userId), tpmsPermittedMaxMs: String(ttl.positive * 1000) },
      };
    },
    async setProject(projectNumber: string, answer: CachedProject): Promise<void> {
      await cache.set(projectKey(projectNumber), encodeProject(answer), {
        expiration: { type: 'EX', value: answer.found ? ttl.positive : ttl.negative },
      });
    },
    setPermission: (projectNumber: string, userId: string, allowed: boolean) => setPermissions([[projectNumber, userId, allowed]]),
    setPermissions,
    /**
     * Drops cached answers for a project, a user, or one project/user pair, and the memos of the
     * users whose answers go, with them. Returns the answers removed (memos not counted).
     */
    async invalidate(filter: { projectNumber?: string; userId?: string }): Promise<number> {
      const { projectNumber, userId } = filter;
      if (projectNumber && userId) return change({ removed: [permissionKey(projectNumber, userId)], memos: [permittedKey(userId)] });
      if (projectNumber) {
        const project = await cache.del(projectKey(projectNumber));
        const userAfter = `${PERMISSION_PREFIX}${projectNumber}:`.length;
        return project + (await deleteMatching(`${PERMISSION_PREFIX}${projectNumber}:*`, (key) => key.slice(userAfter)));
      }
      if (userId) {
        const removed = await deleteMatching(`${PERMISSION_PREFIX}*${globLiteral(permissionSuffix(userId))}`, () => userId);
        // A memo made over no candidates rests on no answer: dropped too.
        await change({ memos: [permittedKey(userId)] });
        return removed;
      }
      return 0;
    },
  };
}

export type TpmsCache = ReturnType<typeof createTpmsCache>;
