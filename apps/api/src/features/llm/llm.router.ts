import { Router } from 'express';
import type { LlmService } from './llm.service.js';

/** Mounted under /api behind requireAuth: shows the model server's host, never the key. */
export function createLlmRouter(llm: LlmService): Router {
  const router = Router();
  router.get('/diagnostics', async (_req, res) => {
    res.json(await llm.diagnostics());
  });
  return router;
}
