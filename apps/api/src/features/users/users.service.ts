import type { SearchUsersResponse, User } from '@simorgh/contracts';
import { LRUCache } from 'lru-cache';
import { AppError } from '../../http/app-error.js';
import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';
import type { ProjectsService } from '../projects/projects.service.js';
import type { UsersStore } from './users.store.js';

/**
 * Display names in the cache DB, next to the other TPMS answers:
 *   tpms:user:<user_id>:name   the display name TPMS gives the user
 */
const nameKey = (userId: string) => `tpms:user:${userId}:name`;
/** Names this process looked up lately: a message's author name costs no round trip while it is here. */
const NAMES_IN_PROCESS_MS = 60_000;

export type UsersServiceDeps = {
  store: UsersStore;
  projects: ProjectsService;
  cache: RedisClient;
  /** TPMS_CACHE_TTL_S. */
  ttlS: number;
  logger: Logger;
};

/** TPMS users as other people see them: for the share dialog, share lists and message authors. */
export function createUsersService(deps: UsersServiceDeps) {
  const { store, projects, cache } = deps;
  const names = new LRUCache<string, string>({ max: 10_000, ttl: NAMES_IN_PROCESS_MS });

  /** The user's TPMS display name (cached); the user ID while TPMS cannot say, so writing never waits on it. */
  async function displayName(userId: string): Promise<string> {
    const known = names.get(userId);
    if (known !== undefined) return known;
    let name = await cache.get(nameKey(userId));
    if (name === null) {
      try {
        name = (await store.displayName(userId)) ?? userId;
        await cache.set(nameKey(userId), name, { expiration: { type: 'EX', value: deps.ttlS } });
      } catch (error) {
        deps.logger.warn({ err: error, userId }, 'TPMS did not answer a display name; using the user ID');
        return userId;
      }
    }
    names.set(userId, name);
    return name;
  }

  return {
    /** The people picker: 403/404 when a project is named that the caller may not use. */
    async search(callerId: string, prefix: string, projectNumber: string | undefined): Promise<SearchUsersResponse> {
      if (projectNumber !== undefined) await projects.requireAccess(callerId, projectNumber);
      return { users: await store.search(prefix, projectNumber ?? null) };
    },

    /**
     * `userIds` as TPMS spells them, once each is known to be active and, with `projectNumber`,
     * to have permission on it; otherwise 400 naming the first who is not. TPMS down: 503.
     */
    async requireShareable(userIds: string[], projectNumber: string | null): Promise<string[]> {
      if (userIds.length === 0) return [];
      const found = new Map((await store.active(userIds)).map((user) => [user.user_id.toLowerCase(), user.user_id]));
      const canonical = userIds.map((userId) => {
        const name = found.get(userId.toLowerCase());
        if (name === undefined) throw new AppError('validation', `User ${userId} does not exist or is not active`);
        return name;
      });
      if (projectNumber !== null) {
        const allowed = await projects.permitted(canonical.map((userId) => [projectNumber, userId]));
        const outsider = canonical.find((_, index) => !allowed[index]);
        if (outsider !== undefined) throw new AppError('validation', `User ${outsider} has no access to project ${projectNumber}`);
      }
      return canonical;
    },

    displayName,
    /** Names for a share list (at most MAX_ALLOWED_USERS IDs), each as displayName gives it. */
    async displayNames(userIds: string[]): Promise<User[]> {
      return Promise.all(userIds.map(async (userId) => ({ user_id: userId, display_name: await displayName(userId) })));
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
