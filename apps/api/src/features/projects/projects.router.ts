import { Router } from 'express';
import { ProjectNumberSchema, type Project } from '@simorgh/contracts';
import { currentUser } from '../../http/require-auth.js';
import type { ProjectsService } from './projects.service.js';
import { sendJson } from '../../http/send-json.js';

export function createProjectsRouter(projects: ProjectsService): Router {
  const router = Router();
  // Live validation for the "new project chat" dialog: same 404/403/503 as creating a session.
  router.get('/:project_number', async (req, res) => {
    const projectNumber = ProjectNumberSchema.parse(req.params.project_number);
    const project: Project = await projects.requireAccess(currentUser(res), projectNumber);
    sendJson(res, 200, project);
  });
  return router;
}
