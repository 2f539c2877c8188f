import type { RouteHandlers } from '../../http/route-handlers.js';
import type { AuthService } from './auth.service.js';
import type { SignIns } from './sign-ins.js';

export function createAuthHandlers(auth: AuthService, signIns: SignIns, adminUsers: readonly string[]): RouteHandlers<'login' | 'logout' | 'me'> {
  return {
    login: async ({ body, ip }) => ({ status: 200, body: await auth.login(body, ip) }),
    logout: async ({ signIn }) => {
      await signIns.revoke(signIn);
      return { status: 200, body: { status: 'success' } };
    },
    me: async ({ userId }) => ({ status: 200, body: { user: await auth.me(userId), is_admin: adminUsers.includes(userId) } }),
  };
}
