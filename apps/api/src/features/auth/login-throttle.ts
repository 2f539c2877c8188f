import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../http/app-error.js';
import type { RedisClient } from '../../redis.js';

export type LoginThrottleLimits = {
  /** Failed sign-ins for one user name from one address within the window: then 429 until it ends. */
  perUserAddress: number;
  /** Failed sign-ins from one address (any names) within the window: then 429 until it ends. */
  perAddress: number;
  windowS: number;
  /** Failures of one user name from every address within the window before delays start. */
  userFailuresBeforeDelay: number;
  /** Delays double from 1 s up to this. */
  userMaxDelayS: number;
  /** An address that signed in as a user skips that user's delays for this long. */
  knownAddressS: number;
};

export const DEFAULT_KNOWN_ADDRESS_S = 30 * 86_400;

/**
 * The user name a throttle is keyed on, folded the way the directory's case- and
 * accent-insensitive collation compares names: `ś.karimi`, `S.KARIMI ` and `s.karimi` are one key.
 */
export function throttleName(username: string): string {
  return username.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

const refused = (msBeforeNext: number) =>
  new AppError('rate_limited', 'Too many sign-in attempts; try again later', {
    'Retry-After': String(Math.max(1, Math.ceil(msBeforeNext / 1000))),
  });

/**
 * Sign-in throttling in the cache DB. Every check takes its point atomically before the
 * password is compared, so parallel guesses cannot all slip past a limit. One address's
 * failures never lock a user out elsewhere: the per-user limit across addresses only slows
 * attempts down (growing delays, capped at a few seconds), and an address the user signed in
 * from before is not slowed by other addresses' failures at all.
 */
export function createLoginThrottle(cache: RedisClient, limits: LoginThrottleLimits) {
  const limiter = (keyPrefix: string, points: number, duration: number) =>
    new RateLimiterRedis({ storeClient: cache, useRedisPackage: true, keyPrefix, points, duration });
  const perAddress = limiter('auth:login:addr', limits.perAddress, limits.windowS);
  const perUserAddress = limiter('auth:login:user-addr', limits.perUserAddress, limits.windowS);
  // Counts failures only (penalty), never refuses by itself: the gate below does the slowing.
  const userFailures = limiter('auth:login:user', Number.MAX_SAFE_INTEGER, limits.windowS);
  // One attempt per delay: the key lives as long as the current delay.
  const userGate = limiter('auth:login:user-gate', 1, limits.userMaxDelayS);

  const part = (value: string) => encodeURIComponent(value);
  const pairKey = (name: string, address: string) => `${part(name)}:${part(address)}`;
  const knownKey = (name: string, address: string) => `auth:login:known:${pairKey(name, address)}`;

  async function take(rateLimiter: RateLimiterRedis, key: string, options?: { customDuration: number }): Promise<void> {
    try {
      await rateLimiter.consume(key, 1, options);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw refused(error.msBeforeNext);
      throw error;
    }
  }

  /** The delay before the next attempt once a user name has `failures` failures in the window. */
  const delayS = (failures: number) =>
    Math.min(limits.userMaxDelayS, 2 ** Math.min(30, failures - limits.userFailuresBeforeDelay));

  return {
    /** Before anything else: one attempt from this address (refunded on success). */
    async takeAddress(address: string): Promise<void> {
      await take(perAddress, part(address));
    },
    /** After the directory lookup, before bcrypt: one attempt for this name from this address. */
    async takeUser(name: string, address: string): Promise<void> {
      await take(perUserAddress, pairKey(name, address));
      try {
        if ((await cache.exists(knownKey(name, address))) === 1) return;
        const failures = (await userFailures.get(part(name)))?.consumedPoints ?? 0;
        if (failures < limits.userFailuresBeforeDelay) return;
        await take(userGate, part(name), { customDuration: delayS(failures) });
      } catch (error) {
        // Waiting is not a guess: the attempt never reached bcrypt, so it costs this pair nothing.
        await perUserAddress.reward(pairKey(name, address), 1);
        throw error;
      }
    },
    async recordFailure(name: string): Promise<void> {
      await userFailures.penalty(part(name), 1);
    },
    /** A success clears this pair's failures and refunds the address's attempt. */
    async recordSuccess(name: string, address: string): Promise<void> {
      await Promise.all([
        perUserAddress.delete(pairKey(name, address)),
        perAddress.reward(part(address), 1),
        cache.set(knownKey(name, address), '1', { EX: limits.knownAddressS }),
      ]);
    },
    /** An attempt that could not be checked (directory down, server busy) is no guess either. */
    async refundAddress(address: string): Promise<void> {
      await perAddress.reward(part(address), 1);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
