import type { RouteHandlers } from '../../http/route-handlers.js';
import type { ProjectsService } from './projects.service.js';

export function createProjectsHandlers(projects: ProjectsService): RouteHandlers<'getProject'> {
  return {
    // Live validation for the "new project chat" dialog: same 404/403/503 as creating a chat.
    getProject: async ({ userId, params }) => ({ status: 200, body: await projects.requireAccess(userId, params.project_number) }),
  };
}
