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

/** KEYS: log. ARGV: now ms, window ms, limit, member. Returns 0 when taken, else ms to wait. */
const TAKE_MESSAGE_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0`;

/** KEYS: slots. ARGV: now ms, lease ms, limit, token. 1 when a slot was taken. */
const ACQUIRE_STREAM_SCRIPT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

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
    /** Counts one message (or regeneration) against the per-minute limit; 429 when over it. */
    async takeMessage(userId: string, token: string): Promise<void> {
      const waitMs = Number(
        await evalScript(cache, TAKE_MESSAGE_SCRIPT, [messagesKey(userId)], [
          String(now().getTime()),
          String(WINDOW_MS),
          String(options.messagesPerMinute),
          token,
        ]),
      );
      if (waitMs > 0) {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        throw new AppError(
          'rate_limited',
          `You can send ${options.messagesPerMinute} messages per minute. Try again in ${seconds} s.`,
          { 'Retry-After': String(seconds) },
        );
      }
    },

    /** Takes one of the user's stream slots for `leaseMs`; 429 when all are taken. */
    async acquireStream(userId: string, token: string, leaseMs: number): Promise<void> {
      const taken = await evalScript(cache, ACQUIRE_STREAM_SCRIPT, [streamsKey(userId)], [
        String(now().getTime()),
        String(leaseMs),
        String(options.concurrentStreams),
        token,
      ]);
      if (taken !== 1) {
        throw new AppError(
          'rate_limited',
          `You already have ${options.concurrentStreams} replies in progress. Wait for one to finish or stop it.`,
          { 'Retry-After': String(STREAM_RETRY_AFTER_S) },
        );
      }
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
  };
}
