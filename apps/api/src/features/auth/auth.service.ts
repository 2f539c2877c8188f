import bcrypt from 'bcryptjs';
import type { LoginRequest, LoginResponse, User } from '@simorgh/contracts';
import type { Logger } from '../../logger.js';
import { AppError } from '../../http/app-error.js';
import type { AuthStore } from './auth.store.js';
import type { LoginLimiter } from './login-limiter.js';
import type { TokenService } from './tokens.js';

const invalidLogin = () => new AppError('unauthorized', 'Invalid username or password');

/**
 * Compared against when the user does not exist, so an unknown name costs the same bcrypt
 * work as a wrong password and response times do not reveal which names exist.
 */
const DUMMY_HASH = bcrypt.hashSync('simorgh-no-such-user', 10);

export function createAuthService(deps: { store: AuthStore; limiter: LoginLimiter; tokens: TokenService; logger: Logger }) {
  return {
    async login(credentials: LoginRequest, ip: string): Promise<LoginResponse> {
      const username = credentials.username;
      await deps.limiter.assertAllowed(username, ip);
      // A TPMS outage propagates as 503: "try again" is honest, "wrong password" is not.
      const user = await deps.store.findUser(username);
      const matches = await bcrypt.compare(credentials.password, user?.password_hash ?? DUMMY_HASH);
      if (!user || !matches || Number(user.is_active) !== 1) {
        await deps.limiter.recordFailure(username, ip);
        deps.logger.info({ username, ip }, 'sign-in refused');
        throw invalidLogin();
      }
      await deps.limiter.recordSuccess(username);
      const { token, expiresIn } = await deps.tokens.sign(user.username, user.display_name);
      return {
        access_token: token,
        token_type: 'bearer',
        expires_in: expiresIn,
        user: { user_id: user.username, display_name: user.display_name },
      };
    },

    /** The signed-in user; the display name falls back to the ID while TPMS is unreachable. */
    async me(userId: string): Promise<User> {
      try {
        const user = await deps.store.findUser(userId);
        return { user_id: userId, display_name: user?.display_name ?? userId };
      } catch {
        return { user_id: userId, display_name: userId };
      }
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
