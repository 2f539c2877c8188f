import type { RouteHandlers } from '../../http/route-handlers.js';
import type { AuthService } from './auth.service.js';

export function createAuthHandlers(auth: AuthService): RouteHandlers<'login' | 'me'> {
  return {
    login: async ({ body, ip }) => ({ status: 200, body: await auth.login(body, ip) }),
    me: async ({ userId }) => ({ status: 200, body: { user: await auth.me(userId) } }),
  };
}
