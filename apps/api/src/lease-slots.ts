/**
 * Per-user slots held for a while, kept in Redis (the cache DB) so every API process counts the
 * same: a ZSET per user and kind, member = a slot's token, score = when its lease ends (ms, from
 * the injected clock). A holder renews its lease while it holds the slot, so the slots of a
 * process that died free themselves when their leases lapse. Composed into the scripts that take
 * a slot, so the check and the taking are one atomic step:
 *
 *   lease_slot_take(key, now, lease, limit, token)     1 when taken, 0 when all are held
 *   lease_slot_renew(key, expires, lease, token)       renews a held slot; a lapsed one is not taken back
 */
import { defineScript } from './redis-script.js';
import type { RedisClient } from './redis.js';

export const LEASE_SLOTS_LUA = `
local function lease_slot_take(key, now, lease, limit, token)
  now = tonumber(now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(limit) then return 0 end
  redis.call('ZADD', key, now + tonumber(lease), token)
  redis.call('PEXPIRE', key, lease)
  return 1
end
local function lease_slot_renew(key, expires, lease, token)
  redis.call('ZADD', key, 'XX', expires, token)
  redis.call('PEXPIRE', key, lease)
end`;

const TAKE_SCRIPT = defineScript({
  keys: ['slots'],
  args: ['now', 'leaseMs', 'limit', 'token'],
  lua: `${LEASE_SLOTS_LUA}
return lease_slot_take(k.slots, a.now, a.leaseMs, a.limit, a.token)`,
});

const RENEW_SCRIPT = defineScript({
  keys: ['slots'],
  args: ['expiresMs', 'leaseMs', 'token'],
  lua: `${LEASE_SLOTS_LUA}
lease_slot_renew(k.slots, a.expiresMs, a.leaseMs, a.token)
return 1`,
});

/** Slots of one kind: `key(user)` names a user's ZSET. */
export function createLeaseSlots(options: { cache: RedisClient; key: (userId: string) => string; now: () => Date }) {
  const { cache, key, now } = options;
  return {
    /** Takes one of `limit` slots for `leaseMs`; false when the user holds them all. */
    async take(userId: string, token: string, leaseMs: number, limit: number): Promise<boolean> {
      return Number(await TAKE_SCRIPT.run(cache, { slots: key(userId) }, { now: now().getTime(), leaseMs, limit, token })) === 1;
    },
    async renew(userId: string, token: string, leaseMs: number): Promise<void> {
      await RENEW_SCRIPT.run(cache, { slots: key(userId) }, { expiresMs: now().getTime() + leaseMs, leaseMs, token });
    },
    async release(userId: string, token: string): Promise<void> {
      await cache.zRem(key(userId), token);
    },
  };
}
