import type { RequestHandler } from 'express';
import { AppError } from '../../http/app-error.js';
import { currentUser } from '../../http/require-auth.js';
import type { RouteHandlers } from '../../http/route-handlers.js';
import type { ProjectsService } from '../projects/projects.service.js';

/** The guard of every `admin` route: only the users named in ADMIN_USERS pass. */
export function requireAdmin(adminUsers: readonly string[]): RequestHandler {
  return (_req, res, next) => {
    if (!adminUsers.includes(currentUser(res))) throw new AppError('forbidden', 'This endpoint is for administrators only');
    next();
  };
}

/**
 * Operator endpoints. Invalidation drops cached TPMS answers (e.g. right after revoking
 * someone's access) and returns how many entries were removed.
 */
export function createAdminHandlers(projects: ProjectsService): RouteHandlers<'invalidateTpmsCache'> {
  return {
    async invalidateTpmsCache({ body }) {
      const removed = await projects.invalidate({
        ...(body.project_number ? { projectNumber: body.project_number } : {}),
        ...(body.user_id ? { userId: body.user_id } : {}),
      });
      return { status: 200, body: { status: 'success', removed } };
    },
  };
}
