import { Router } from 'express';
import type { Deps } from '../../deps.js';
import { checkHealth } from './health.service.js';
import { sendJson } from '../../http/send-json.js';

export function createHealthRouter(deps: Deps): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const health = await checkHealth(deps);
    res.set('Cache-Control', 'no-store');
    sendJson(res, health.status === 'unhealthy' ? 503 : 200, health);
  });
  return router;
}
