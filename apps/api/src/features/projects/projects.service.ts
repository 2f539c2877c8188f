import type { Project } from '@simorgh/contracts';
import { AppError } from '../../http/app-error.js';
import type { ProjectsStore } from './projects.store.js';
import type { TpmsCache } from './tpms-cache.js';

export const projectNotFound = (projectNumber: string) =>
  new AppError('not_found', `Project ID ${projectNumber} not found in database`);
export const projectForbidden = (projectNumber: string) =>
  new AppError('forbidden', `Access denied for project ${projectNumber}`);

/**
 * Project lookups and permission checks, answered from the cache when possible.
 * TPMS failures surface as upstream_unavailable (503) and are never cached.
 */
export function createProjectsService(store: ProjectsStore, cache: TpmsCache) {
  async function lookupProject(projectNumber: string): Promise<Project> {
    let cached = await cache.getProject(projectNumber);
    if (!cached) {
      const row = await store.findProject(projectNumber);
      cached = row ? { found: true, name: row.project_name } : { found: false };
      await cache.setProject(projectNumber, cached);
    }
    if (!cached.found) throw projectNotFound(projectNumber);
    return { project_number: projectNumber, project_name: cached.name };
  }

  async function checkPermission(projectNumber: string, userId: string): Promise<boolean> {
    const cached = await cache.getPermission(projectNumber, userId);
    if (cached !== null) return cached;
    const allowed = await store.hasPermission(projectNumber, userId);
    await cache.setPermission(projectNumber, userId, allowed);
    return allowed;
  }

  return {
    /** The project if it exists and the user may draft in it; else 404, 403 or 503. */
    async requireAccess(userId: string, projectNumber: string): Promise<Project> {
      const project = await lookupProject(projectNumber);
      if (!(await checkPermission(projectNumber, userId))) throw projectForbidden(projectNumber);
      return project;
    },
    invalidate: cache.invalidate,
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
