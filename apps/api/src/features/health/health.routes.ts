import type { Deps } from '../../deps.js';
import type { RouteHandlers } from '../../http/route-handlers.js';
import { checkHealth } from './health.service.js';

export function createHealthHandlers(deps: Deps): RouteHandlers<'health'> {
  return {
    async health() {
      const health = await checkHealth(deps);
      return { status: health.status === 'unhealthy' ? 503 : 200, body: health, headers: { 'Cache-Control': 'no-store' } };
    },
  };
}
