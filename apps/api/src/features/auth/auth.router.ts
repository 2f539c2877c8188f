import { Router, type RequestHandler } from 'express';
import { LoginRequestSchema, type MeResponse } from '@simorgh/contracts';
import { currentUser } from '../../http/require-auth.js';
import type { AuthService } from './auth.service.js';
import { sendJson } from '../../http/send-json.js';

/** Mounted at /api/auth. Login is public; `me` sits behind `requireAuth`, passed in by createApp. */
export function createAuthRouter(auth: AuthService, requireAuth: RequestHandler): Router {
  const router = Router();
  router.post('/login', async (req, res) => {
    const credentials = LoginRequestSchema.parse(req.body ?? {});
    sendJson(res, 200, await auth.login(credentials, req.ip ?? 'unknown'));
  });
  router.get('/me', requireAuth, async (_req, res) => {
    const body: MeResponse = { user: await auth.me(currentUser(res)) };
    sendJson(res, 200, body);
  });
  return router;
}
