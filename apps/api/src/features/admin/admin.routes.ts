import type { RequestHandler } from 'express';
import { AppError } from '../../http/app-error.js';
import { currentUser } from '../../http/require-auth.js';
import type { RouteHandlers } from '../../http/route-handlers.js';
import type { Kysely } from 'kysely';
import { isHistoryUnavailable, queryUsage, type HistoryService } from '../history/history.service.js';
import type { ProjectsService } from '../projects/projects.service.js';

/** The guard of every `admin` route: only the users named in ADMIN_USERS pass. */
export function requireAdmin(adminUsers: readonly string[]): RequestHandler {
  return (_req, res, next) => {
    if (!adminUsers.includes(currentUser(res))) throw new AppError('forbidden', 'This endpoint is for administrators only');
    next();
  };
}

/**
 * Operator endpoints. Usage sums the replies' tokens from the PostgreSQL history (503 while it
 * does not answer). Invalidation drops cached TPMS answers (e.g. right after revoking
 * someone's access) and returns how many entries were removed. With a user_id it also drops
 * that user's cached active flag, so a user just deactivated in TPMS is refused at once. An
 * archive run moves idle chats out of Redis now (tests and operators need not wait for the timer).
 */
export function createAdminHandlers(
  projects: ProjectsService,
  signIns: { /** Drops the user's cached TPMS active flag; returns keys removed. */ forgetUser(userId: string): Promise<number> },
  historyDb: Kysely<unknown>,
  archive: Pick<HistoryService, 'runArchive'>,
): RouteHandlers<'invalidateTpmsCache' | 'adminUsage' | 'runArchive'> {
  return {
    async adminUsage({ query }) {
      try {
        const rows = await queryUsage(historyDb, { from: query.from, to: query.to, groupBy: query.group_by, limit: query.limit });
        return { status: 200, body: { rows } };
      } catch (error) {
        if (isHistoryUnavailable(error)) throw new AppError('upstream_unavailable', 'The usage history (PostgreSQL) is unavailable right now; try again shortly.');
        throw error;
      }
    },
    async invalidateTpmsCache({ body }) {
      const removed = await projects.invalidate({
        ...(body.project_number ? { projectNumber: body.project_number } : {}),
        ...(body.user_id ? { userId: body.user_id } : {}),
      });
      const user = body.user_id ? await signIns.forgetUser(body.user_id) : 0;
      return { status: 200, body: { status: 'success', removed: removed + user } };
    },
    async runArchive({ body }) {
      const { archived, deleted } = await archive.runArchive(body.idle_days);
      return { status: 200, body: { archived, deleted } };
    },
  };
}
