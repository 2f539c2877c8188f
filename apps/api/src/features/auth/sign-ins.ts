import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';
import type { AuthStore } from './auth.store.js';
import type { SignIn, TokenService } from './tokens.js';

/**
 * What a valid signature alone cannot say: whether the token was signed out, and whether its
 * user is still active in TPMS. Both are answered from the cache DB, in one MGET per request:
 *   auth:revoked:<token id>   present while a signed-out token has not expired yet
 *   tpms:user:<user>:active   "1" active, "0" inactive (TPMS `users.is_active`), "?" TPMS did not
 *                             answer (served as active; asked again after the short TTL)
 * Nothing here is kept in the process, so a sign-out or a deactivation seen by one API process
 * holds in every other one at the next request.
 */
const ACTIVE = '1';
const INACTIVE = '0';
const UNKNOWN = '?';
const revokedKey = (tokenId: string) => `auth:revoked:${tokenId}`;
const activeKey = (userId: string) => `tpms:user:${userId}:active`;

export type SignInsDeps = {
  tokens: TokenService;
  cache: RedisClient;
  users: Pick<AuthStore, 'findUser'>;
  /** TPMS_CACHE_TTL_S for "active", TPMS_NEGATIVE_CACHE_TTL_S for "inactive" and "unknown". */
  ttl: { positive: number; negative: number };
  now: () => Date;
  logger: Logger;
};

export function createSignIns(deps: SignInsDeps) {
  const { cache, ttl } = deps;
  /** One TPMS lookup per user at a time in this process, however many requests miss at once. */
  const lookups = new Map<string, Promise<string>>();

  async function lookUpActive(userId: string): Promise<string> {
    let state: string;
    try {
      const user = await deps.users.findUser(userId);
      // Only a user TPMS marks inactive is refused; a name TPMS does not hold (another system's
      // token) is left to the token's own expiry.
      state = user && Number(user.is_active) !== 1 ? INACTIVE : ACTIVE;
    } catch (error) {
      // A TPMS outage must not sign everyone out: serve, and remember for a short while that
      // TPMS could not say, so an outage costs one slow lookup per user, not one per request.
      deps.logger.warn({ err: error, userId }, 'TPMS did not answer whether the user is active; serving the request');
      state = UNKNOWN;
    }
    await cache.set(activeKey(userId), state, { expiration: { type: 'EX', value: state === ACTIVE ? ttl.positive : ttl.negative } });
    return state;
  }

  function activeState(userId: string): Promise<string> {
    let pending = lookups.get(userId);
    if (!pending) {
      pending = lookUpActive(userId).finally(() => lookups.delete(userId));
      lookups.set(userId, pending);
    }
    return pending;
  }

  return {
    /**
     * The sign-in of a bearer token that is validly signed, unexpired, not signed out and whose
     * user TPMS has not made inactive; null otherwise. A Redis outage throws (503).
     */
    async authenticate(token: string): Promise<SignIn | null> {
      const signIn = await deps.tokens.verify(token);
      if (!signIn) return null;
      const [revoked, active] = await cache.mGet([revokedKey(signIn.tokenId), activeKey(signIn.userId)]);
      if (revoked != null) return null;
      const state = active ?? (await activeState(signIn.userId));
      return state === INACTIVE ? null : signIn;
    },

    /** Signs the token out everywhere until it would have expired anyway. */
    async revoke(signIn: SignIn): Promise<void> {
      const remainingS = Math.max(1, signIn.expiresS - Math.floor(deps.now().getTime() / 1000));
      await cache.set(revokedKey(signIn.tokenId), '1', { expiration: { type: 'EX', value: remainingS } });
    },

    /** Drops the cached active flag, so the next request asks TPMS. Returns keys removed. */
    async forgetUser(userId: string): Promise<number> {
      return cache.del(activeKey(userId));
    },
  };
}

export type SignIns = ReturnType<typeof createSignIns>;
