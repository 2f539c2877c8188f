import type { RedisClient } from '../../redis.js';
import type { AccessCheck, PermissionsCheck } from './projects.scripts.js';

/**
 * Cached TPMS answers in the cache DB:
 *   tpms:project:<n>         JSON {"name": string} when found, "missing" when not
 *   tpms:perm:<n>:<user_id>  "1" allowed, "0" denied
 * Positive answers live TPMS_CACHE_TTL_S, negative ones TPMS_NEGATIVE_CACHE_TTL_S; errors
 * are never written, so an outage cannot be remembered as "not found" or "denied".
 */
const MISSING = 'missing';
/** Cache writes one call keeps in flight at most. */
const WRITES_IN_FLIGHT = 200;
const projectKey = (projectNumber: string) => `tpms:project:${projectNumber}`;
const PERMISSION_PREFIX = 'tpms:perm:';
const permissionSuffix = (userId: string) => `:${userId}`;
const permissionKey = (projectNumber: string, userId: string) => `${PERMISSION_PREFIX}${projectNumber}${permissionSuffix(userId)}`;

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
  async function deleteMatching(pattern: string): Promise<number> {
    let deleted = 0;
    for await (const keys of cache.scanIterator({ MATCH: pattern, COUNT: 500 })) {
      if (keys.length > 0) deleted += await cache.del(keys);
    }
    return deleted;
  }

  async function setPermission(projectNumber: string, userId: string, allowed: boolean): Promise<void> {
    await cache.set(permissionKey(projectNumber, userId), allowed ? '1' : '0', {
      expiration: { type: 'EX', value: allowed ? ttl.positive : ttl.negative },
    });
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
    /** What a script needs to read this user's cached permissions itself (`cached_permissions`). */
    permissionsCheck(userId: string): PermissionsCheck {
      return { args: { tpmsPermPrefix: PERMISSION_PREFIX, tpmsPermSuffix: permissionSuffix(userId) } };
    },
    async setProject(projectNumber: string, answer: CachedProject): Promise<void> {
      await cache.set(projectKey(projectNumber), encodeProject(answer), {
        expiration: { type: 'EX', value: answer.found ? ttl.positive : ttl.negative },
      });
    },
    setPermission,
    /**
     * Caches many answers, a chunk at a time: a reader on thousands of projects must not fill
     * the client's bounded command queue (MAX_QUEUED_COMMANDS in redis.ts) and fail with 503.
     */
    async setPermissions(answers: Array<[projectNumber: string, userId: string, allowed: boolean]>): Promise<void> {
      for (let start = 0; start < answers.length; start += WRITES_IN_FLIGHT) {
        await Promise.all(answers.slice(start, start + WRITES_IN_FLIGHT).map(([projectNumber, userId, allowed]) => setPermission(projectNumber, userId, allowed)));
      }
    },
    /** Drops cached answers for a project, a user, or one project/user pair. Returns keys removed. */
    async invalidate(filter: { projectNumber?: string; userId?: string }): Promise<number> {
      const { projectNumber, userId } = filter;
      if (projectNumber && userId) return cache.del(permissionKey(projectNumber, userId));
      if (projectNumber) {
        const project = await cache.del(projectKey(projectNumber));
        return project + (await deleteMatching(`tpms:perm:${projectNumber}:*`));
      }
      if (userId) return deleteMatching(`tpms:perm:*:${globLiteral(userId)}`);
      return 0;
    },
  };
}

export type TpmsCache = ReturnType<typeof createTpmsCache>;
