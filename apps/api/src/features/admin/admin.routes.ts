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
 * someone's access) and returns how many entries were removed. With a user_id it also drops
 * that user's cached active flag, so a user just deactivated in TPMS is refused at once.
 */
export function createAdminHandlers(
  projects: ProjectsService,
  signIns: { /** Drops the user's cached TPMS active flag; returns keys removed. */ forgetUser(userId: string): Promise<number> },
): RouteHandlers<'invalidateTpmsCache'> {
  return {
    async invalidateTpmsCache({ body }) {
      const removed = await projects.invalidate({
        ...(body.project_number ? { projectNumber: body.project_number } : {}),
        ...(body.user_id ? { userId: body.user_id } : {}),
      });
      const user = body.user_id ? await signIns.forgetUser(body.user_id) : 0;
      return { status: 200, body: { status: 'success', removed: removed + user } };
    },
  };
}
