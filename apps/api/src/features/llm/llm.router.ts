import { Router } from 'express';
import type { LlmService } from './llm.service.js';
import { sendJson } from '../../http/send-json.js';

/** Mounted under /api behind requireAuth: shows the model server's host, never the key. */
export function createLlmRouter(llm: LlmService): Router {
  const router = Router();
  router.get('/diagnostics', async (_req, res) => {
    sendJson(res, 200, await llm.diagnostics());
  });
  return router;
}
