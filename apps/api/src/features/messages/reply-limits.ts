/**
 * Per-user limits on replies, kept in the cache DB so every API process shares them:
 *
 *   ratelimit:messages:<user>   ZSET sliding log of accepted sends (score = ms), MESSAGES_PER_MINUTE
 *   ratelimit:streams:<user>    ZSET of open reply streams (member = stream token, score = lease
 *                               expiry ms), CONCURRENT_STREAMS; a stream renews its lease while
 *                               open, so a crashed process frees its slots when the lease lapses
 *
 * Times come from the injected clock, not Redis TIME, so tests can control them.
 */
import { AppError } from '../../http/app-error.js';
import { evalScript, type RedisClient } from '../../redis.js';

const WINDOW_MS = 60_000;
/** What a client is told to wait when all its stream slots are taken. */
const STREAM_RETRY_AFTER_S = 2;

const messagesKey = (userId: string) => `ratelimit:messages:${userId}`;
const streamsKey = (userId: string) => `ratelimit:streams:${userId}`;

/**
 * KEYS: message log, stream slots. ARGV: now ms, window ms, messages per window, lease ms,
 * stream limit, token. Checks both limits, then takes both or neither, in one round trip.
 * Returns {0} when admitted, {1, ms to wait} over the message limit, {2} with no free stream slot.
 */
const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return {1, wait}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {2} end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {0}`;

/** KEYS: slots. ARGV: expiry ms, lease ms, token. */
const RENEW_STREAM_SCRIPT = `
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export type ReplyLimits = ReturnType<typeof createReplyLimits>;

export function createReplyLimits(options: {
  cache: RedisClient;
  now: () => Date;
  messagesPerMinute: number;
  concurrentStreams: number;
}) {
  const { cache, now } = options;
  return {
    /**
     * Counts one message (or regeneration) against the per-minute limit and takes one of the
     * user's stream slots for `leaseMs`; 429 when either is exhausted, and then neither is taken.
     */
    async admit(userId: string, token: string, leaseMs: number): Promise<void> {
      const result = await evalScript(cache, ADMIT_SCRIPT, [messagesKey(userId), streamsKey(userId)], [
        String(now().getTime()),
        String(WINDOW_MS),
        String(options.messagesPerMinute),
        String(leaseMs),
        String(options.concurrentStreams),
        token,
      ]);
      const [verdict, waitMs] = Array.isArray(result) ? result.map(Number) : [Number.NaN];
      if (verdict === 1) {
        const seconds = Math.max(1, Math.ceil((waitMs ?? 1000) / 1000));
        throw new AppError(
          'rate_limited',
          `You can send ${options.messagesPerMinute} messages per minute. Try again in ${seconds} s.`,
          { 'Retry-After': String(seconds) },
        );
      }
      if (verdict === 2) {
        throw new AppError(
          'rate_limited',
          `You already have ${options.concurrentStreams} replies in progress. Wait for one to finish or stop it.`,
          { 'Retry-After': String(STREAM_RETRY_AFTER_S) },
        );
      }
      if (verdict !== 0) throw new Error(`unexpected reply limits answer: ${JSON.stringify(result)}`);
    },

    async renewStream(userId: string, token: string, leaseMs: number): Promise<void> {
      await evalScript(cache, RENEW_STREAM_SCRIPT, [streamsKey(userId)], [
        String(now().getTime() + leaseMs),
        String(leaseMs),
        token,
      ]);
    },

    async releaseStream(userId: string, token: string): Promise<void> {
      await cache.zRem(streamsKey(userId), token);
    },

    /** Undoes `admit` for a request refused for another reason: it counts against no limit. */
    async refund(userId: string, token: string): Promise<void> {
      await cache.multi().zRem(messagesKey(userId), token).zRem(streamsKey(userId), token).exec();
    },
  };
}
