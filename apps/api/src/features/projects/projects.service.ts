import type { Project } from '@simorgh/contracts';
import { LRUCache } from 'lru-cache';
import { AppError } from '../../http/app-error.js';
import type { ProjectsStore } from './projects.store.js';
import type { AccessCheck } from './projects.scripts.js';
import type { CachedProject, TpmsCache } from './tpms-cache.js';

/** Project names this process has seen, for `cachedAccessCheck`; bounded, least recently used dropped first. */
const KNOWN_NAMES_MAX = 10_000;

/** TPMS compares user names without regard to case; so does the pairing of its answers. */
const pairKey = (projectNumber: string, userId: string) => `${projectNumber}\u0000${userId.toLowerCase()}`;

export const projectNotFound = (projectNumber: string) =>
  new AppError('not_found', `Project ID ${projectNumber} not found in database`);
export const projectForbidden = (projectNumber: string) =>
  new AppError('forbidden', `Access denied for project ${projectNumber}`);

/**
 * Project lookups and permission checks, answered from the cache when possible.
 * TPMS failures surface as upstream_unavailable (503) and are never cached.
 */
export function createProjectsService(store: ProjectsStore, cache: TpmsCache) {
  const knownNames = new LRUCache<string, string>({ max: KNOWN_NAMES_MAX });

  async function fetchProject(projectNumber: string): Promise<CachedProject> {
    const row = await store.findProject(projectNumber);
    const answer: CachedProject = row ? { found: true, name: row.project_name } : { found: false };
    await cache.setProject(projectNumber, answer);
    return answer;
  }

  async function fetchPermission(projectNumber: string, userId: string): Promise<boolean> {
    const allowed = await store.hasPermission(projectNumber, userId);
    await cache.setPermission(projectNumber, userId, allowed);
    return allowed;
  }

  return {
    /**
     * The project if it exists and the user may draft in it; else 404, 403 or 503. Both cached
     * answers are read in one round trip; what is missing is asked of TPMS in parallel. An
     * unknown project is 404 whatever the permission says.
     */
    async requireAccess(userId: string, projectNumber: string): Promise<Project> {
      const cached = await cache.getAccess(projectNumber, userId);
      if (cached.project?.found === false) throw projectNotFound(projectNumber);
      const [project, allowed] = await Promise.all([
        cached.project ?? fetchProject(projectNumber),
        cached.allowed ?? fetchPermission(projectNumber, userId),
      ]);
      if (!project.found) throw projectNotFound(projectNumber);
      if (!allowed) throw projectForbidden(projectNumber);
      knownNames.set(projectNumber, project.name);
      return { project_number: projectNumber, project_name: project.name };
    },

    /**
     * For a project this process has opened before: the project as it was, and the check a
     * script can run itself to confirm, in its own round trip, that the cache still says the same
     * (found, same name, user allowed). When the script finds anything else, call requireAccess:
     * it gives the real answer (404, 403, a TPMS lookup). Null when the name is not known here.
     */
    cachedAccessCheck(userId: string, projectNumber: string): { project: Project; check: AccessCheck } | null {
      const name = knownNames.get(projectNumber);
      if (name === undefined) return null;
      return { project: { project_number: projectNumber, project_name: name }, check: cache.accessCheck(projectNumber, userId, name) };
    },
    /**
     * Which of `pairs` ([project, user]) have a draft_permission row, answered from the cache where
     * it can (so at most TPMS_CACHE_TTL_S old, and fresh at once after an invalidation); the rest
     * in one TPMS query, cached. The project's existence is not asked: this is for people other
     * than a chat's owner, whose access rests on the permission row alone. TPMS down: 503.
     */
    async permitted(pairs: Array<[string, string]>): Promise<boolean[]> {
      const cached = await cache.getPermissions(pairs);
      const missing = pairs.filter((_, index) => cached[index] === null);
      if (missing.length === 0) return cached.map((value) => value === true);
      const found = new Set(
        (await store.permissionsAmong([...new Set(missing.map(([project]) => project))], [...new Set(missing.map(([, user]) => user))])).map(
          ([project, user]) => pairKey(project, user),
        ),
      );
      await cache.setPermissions(missing.map(([project, user]) => [project, user, found.has(pairKey(project, user))]));
      return pairs.map(([project, user], index) => cached[index] ?? found.has(pairKey(project, user)));
    },
    /**
     * What a script of another feature needs to read the user's cached permissions on many
     * projects in Redis itself (`cached_permissions` in projects.scripts.ts); the pairs nothing is
     * cached for are then asked through `permitted`.
     */
    permissionsCheck: (userId: string) => cache.permissionsCheck(userId),
    invalidate: cache.invalidate,
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
