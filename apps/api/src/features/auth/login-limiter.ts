import { AppError } from '../../http/app-error.js';
import type { RedisClient } from '../../redis.js';

export type LoginLimits = { perUser: number; perIp: number; windowS: number };

/** Five wrong passwords for one name, or 30 from one address, within 15 minutes → 429. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUser: 5, perIp: 30, windowS: 15 * 60 };

const userKey = (username: string) => `auth:fail:user:${username.toLowerCase()}`;
const ipKey = (ip: string) => `auth:fail:ip:${ip}`;

/**
 * Failed sign-in counters in the cache DB, each expiring `windowS` after the first failure
 * of its window. Checked before the password so a locked name costs no bcrypt work.
 */
export function createLoginLimiter(cache: RedisClient, limits: LoginLimits) {
  async function retryAfter(key: string, limit: number): Promise<number | null> {
    const count = Number((await cache.get(key)) ?? 0);
    if (count < limit) return null;
    const ttl = await cache.ttl(key);
    return ttl > 0 ? ttl : limits.windowS;
  }

  return {
    async assertAllowed(username: string, ip: string): Promise<void> {
      const waits = await Promise.all([retryAfter(userKey(username), limits.perUser), retryAfter(ipKey(ip), limits.perIp)]);
      const wait = Math.max(...waits.map((value) => value ?? 0));
      if (wait > 0) {
        throw new AppError('rate_limited', 'Too many failed sign-in attempts; try again later', {
          'Retry-After': String(wait),
        });
      }
    },
    async recordFailure(username: string, ip: string): Promise<void> {
      await Promise.all(
        [userKey(username), ipKey(ip)].map(async (key) => {
          await cache.incr(key);
          await cache.expire(key, limits.windowS, 'NX');
        }),
      );
    },
    async recordSuccess(username: string): Promise<void> {
      await cache.del(userKey(username));
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
