import { createHash } from 'node:crypto';
import type { LoginRequest, LoginResponse, User } from '@simorgh/contracts';
import type { Logger } from '../../logger.js';
import { AppError } from '../../http/app-error.js';
import type { AuthStore } from './auth.store.js';
import { throttleName, type LoginThrottle } from './login-throttle.js';
import { DUMMY_HASH, type PasswordVerifier } from './passwords.js';
import type { SignInSlots } from './sign-in-slots.js';
import type { TokenService } from './tokens.js';

const invalidLogin = () => new AppError('unauthorized', 'Invalid username or password');

/**
 * What a refused sign-in logs instead of the typed name: people type passwords into that
 * field. Equal names give equal hashes, so repeated attempts on one name still stand out.
 */
export const usernameHash = (username: string) => createHash('sha256').update(username).digest('hex').slice(0, 12);

export function createAuthService(deps: {
  store: AuthStore;
  throttle: LoginThrottle;
  slots: SignInSlots;
  passwords: PasswordVerifier;
  tokens: TokenService;
  logger: Logger;
}) {
  async function check(credentials: LoginRequest, ip: string) {
    // A TPMS outage propagates as 503: "try again" is honest, "wrong password" is not.
    const user = await deps.store.findUser(credentials.username);
    // Keyed on the name as the directory resolved it, so no spelling of it gets its own budget.
    const name = throttleName(user?.username ?? credentials.username);
    await deps.throttle.takeUser(name, ip);
    const matches = await deps.passwords.verify(credentials.password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !matches || Number(user.is_active) !== 1) {
      await deps.throttle.recordFailure(name);
      deps.logger.info({ username_sha256: usernameHash(credentials.username), ip }, 'sign-in refused');
      throw invalidLogin();
    }
    await deps.throttle.recordSuccess(name, ip);
    return user;
  }

  return {
    async login(credentials: LoginRequest, ip: string): Promise<LoginResponse> {
      await deps.throttle.takeAddress(ip);
      let user;
      try {
        user = await deps.slots.run(() => check(credentials, ip));
      } catch (error) {
        // Only a wrong guess or a refusal counts against the address, not an outage or a full queue.
        if (!(error instanceof AppError && (error.code === 'unauthorized' || error.code === 'rate_limited'))) {
          await deps.throttle.refundAddress(ip).catch(() => undefined);
        }
        throw error;
      }
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
