import type { RouteHandlers } from '../../http/route-handlers.js';
import type { UsersService } from './users.service.js';

export function createUsersHandlers(users: UsersService): RouteHandlers<'searchUsers' | 'userNames'> {
  return {
    searchUsers: async ({ userId, query }) => ({ status: 200, body: await users.search(userId, query.q, query.project_number) }),
    userNames: async ({ query }) => ({ status: 200, body: { users: await users.displayNames(query.ids) } }),
  };
}
