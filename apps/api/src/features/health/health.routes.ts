import type { HealthResponse, ServiceHealth } from '@simorgh/contracts';
import type { Deps } from '../../deps.js';
import type { RouteHandlers } from '../../http/route-handlers.js';
import { checkHealth } from './health.service.js';

/**
 * What anyone may see: each status and latency, never a failure's detail (error texts name
 * hosts, ports and addresses). Administrators (ADMIN_USERS) signed in see the details.
 */
function statusesOnly(health: HealthResponse): HealthResponse {
  const bare = ({ status, latency_ms }: ServiceHealth): ServiceHealth => (latency_ms === undefined ? { status } : { status, latency_ms });
  const { redis, sql_auth, llm, history } = health.services;
  return { status: health.status, services: { redis: bare(redis), sql_auth: bare(sql_auth), llm: bare(llm), history: bare(history) } };
}

export function createHealthHandlers(deps: Deps): RouteHandlers<'health'> {
  return {
    async health({ viewer }) {
      const health = await checkHealth(deps);
      const admin = viewer !== undefined && deps.env.ADMIN_USERS.includes(viewer);
      return {
        status: health.status === 'unhealthy' ? 503 : 200,
        body: admin ? health : statusesOnly(health),
        headers: { 'Cache-Control': 'no-store' },
      };
    },
  };
}
