import { Router } from 'express';
import { z } from 'zod';
import { ProjectNumberSchema } from '@simorgh/contracts';
import { AppError } from '../../http/app-error.js';
import { currentUser } from '../../http/require-auth.js';
import type { ProjectsService } from '../projects/projects.service.js';
import { sendJson } from '../../http/send-json.js';

const InvalidateRequestSchema = z
  .object({ project_number: ProjectNumberSchema.optional(), user_id: z.string().trim().min(1).max(150).optional() })
  .refine((body) => body.project_number !== undefined || body.user_id !== undefined, {
    message: 'Send project_number, user_id or both',
  });

/**
 * Operator endpoints under /api/admin, allowed only for the users named in ADMIN_USERS.
 * POST /api/admin/tpms-cache/invalidate {project_number?, user_id?} drops cached TPMS answers
 * (e.g. right after revoking someone's access) and returns how many entries were removed.
 */
export function createAdminRouter(projects: ProjectsService, adminUsers: readonly string[]): Router {
  const router = Router();
  router.use((_req, res, next) => {
    if (!adminUsers.includes(currentUser(res))) throw new AppError('forbidden', 'This endpoint is for administrators only');
    next();
  });
  router.post('/tpms-cache/invalidate', async (req, res) => {
    const body = InvalidateRequestSchema.parse(req.body ?? {});
    const removed = await projects.invalidate({
      ...(body.project_number ? { projectNumber: body.project_number } : {}),
      ...(body.user_id ? { userId: body.user_id } : {}),
    });
    sendJson(res, 200, { status: 'success', removed });
  });
  return router;
}
