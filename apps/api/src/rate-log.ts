/**
 * Lua for per-user sliding-window limits kept in Redis (the cache DB): a ZSET log of accepted
 * actions, score = time in ms from the injected clock, member = a unique token. Composed into
 * the scripts that take an action, so the check and the action are one atomic step:
 *
 *   rate_log_take(key, now, window, limit, member)   0 when taken, else ms until a slot frees
 *   rate_log_refund(key, member)                     gives a taken slot back
 */
export const RATE_LOG_LUA = `
local function rate_log_take(key, now, window, limit, member)
  now = tonumber(now)
  window = tonumber(window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(limit) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + window - now
    if wait < 1 then wait = 1 end
    return wait
  end
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return 0
end
local function rate_log_refund(key, member)
  redis.call('ZREM', key, member)
end`;

/** Whole seconds to tell a client to wait (Retry-After), at least 1. */
export const retryAfterSeconds = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000));
