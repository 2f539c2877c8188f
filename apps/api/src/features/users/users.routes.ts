import type { RouteHandlers } from '../../http/route-handlers.js';
import type { UsersService } from './users.service.js';

export function createUsersHandlers(users: UsersService): RouteHandlers<'searchUsers'> {
  return {
    searchUsers: async ({ userId, query }) => ({ status: 200, body: await users.search(userId, query.q, query.project_number) }),
  };
}
