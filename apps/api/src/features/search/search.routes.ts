import type { RouteHandlers } from '../../http/route-handlers.js';
import type { SearchService } from './search.service.js';

export function createSearchHandlers(search: SearchService): RouteHandlers<'search'> {
  return {
    search: async ({ userId, query }) => ({ status: 200, body: await search.search(userId, query) }),
  };
}
