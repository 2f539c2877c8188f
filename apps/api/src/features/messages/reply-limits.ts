/**
 * Per-user limits on replies, kept in the cache DB so every API process shares them:
 *
 *   ratelimit:messages:<user>   ZSET sliding log of accepted sends (score = ms), MESSAGES_PER_MINUTE
 *   ratelimit:streams:<user>    ZSET of open reply streams (member = stream token, score = lease
 *                               expiry ms), CONCURRENT_STREAMS; a stream renews its lease while
 *                               open, so a crashed process frees its slots when the lease lapses
 *
 * Times come from the injected clock, not Redis TIME, so tests can control them. A reply is
 * admitted by the script that opens it (messages.store.ts), in the same round trip; a title the
 * user asks for (generate-title) takes one entry of the same log before the model is called.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../http/app-error.js';
import type { RedisClient } from '../../redis.js';
import { createLeaseSlots, LEASE_SLOTS_LUA } from '../../lease-slots.js';
import { RATE_LOG_LUA, retryAfterSeconds } from '../../rate-log.js';
import { defineScript } from '../../redis-script.js';

const WINDOW_MS = 60_000;
/** What a client is told to wait when all its stream slots are taken. */
const STREAM_RETRY_AFTER_S = 2;

const messagesKey = (userId: string) => `ratelimit:messages:${userId}`;
/** The user's reply slots (the sweeper frees the slot of a reply it recovers). */
export const streamsKey = (userId: string) => `ratelimit:streams:${userId}`;

/**
 * Lua for the reply-opening script (messages.store.ts), run with the cache DB selected:
 * `admit(log_key, slots_key, now, window, per_window, lease, stream_limit, token)` checks both
 * limits, then takes both or neither, and returns {0} when admitted, {1, ms to wait} over the
 * message limit, {2} with no free stream slot; `refund(log_key, slots_key, token)` gives both
 * back. The script declares ADMISSION_KEYS and ADMISSION_ARGS and passes them in that order.
 */
export const ADMISSION_LUA = `${RATE_LOG_LUA}${LEASE_SLOTS_LUA}
local function admit(log_key, slots_key, now, window, per_window, lease, stream_limit, token)
  local wait = rate_log_take(log_key, now, window, per_window, token)
  if wait > 0 then return {1, wait} end
  if lease_slot_take(slots_key, now, lease, stream_limit, token) == 0 then
    rate_log_refund(log_key, token)
    return {2}
  end
  return {0}
end
local function refund(log_key, slots_key, token)
  rate_log_refund(log_key, token)
  redis.call('ZREM', slots_key, token)
end`;

/** The names under which a script declares what `admit` needs (see redis-script.ts). */
export const ADMISSION_KEYS = ['rateLog', 'streamSlots'] as const;
export const ADMISSION_ARGS = ['now', 'windowMs', 'perWindow', 'slotLeaseMs', 'streamLimit', 'slotToken'] as const;

/** What the reply-opening script needs to admit one reply. */
export type Admission = {
  keys: Record<(typeof ADMISSION_KEYS)[number], string>;
  args: Record<(typeof ADMISSION_ARGS)[number], number | string>;
};

/**
 * One message's worth of the per-minute limit for a request that is not a reply (a title asked
 * for by the user): the same log, so both count against MESSAGES_PER_MINUTE. Returns 0 when
 * taken, else the ms to wait.
 */
const TAKE_MESSAGE_SCRIPT = defineScript({
  keys: ['rateLog'],
  args: ['now', 'windowMs', 'perWindow', 'token'],
  lua: `${RATE_LOG_LUA}
return rate_log_take(k.rateLog, a.now, a.windowMs, a.perWindow, a.token)`,
});

export type ReplyLimits = ReturnType<typeof createReplyLimits>;

export function createReplyLimits(options: {
  cache: RedisClient;
  now: () => Date;
  messagesPerMinute: number;
  concurrentStreams: number;
}) {
  const { cache, now } = options;
  const streamSlots = createLeaseSlots({ cache, key: streamsKey, now });

  /** The 429 for a refused admission: `verdict` and `waitMs` as `admit` returned them. */
  function refusal(verdict: number, waitMs: number): AppError {
    if (verdict === 1) {
      const seconds = retryAfterSeconds(waitMs);
      return new AppError(
        'rate_limited',
        `You can send ${options.messagesPerMinute} messages per minute. Try again in ${seconds} s.`,
        { 'Retry-After': String(seconds) },
      );
    }
    return new AppError(
      'rate_limited',
      `You already have ${options.concurrentStreams} replies in progress. Wait for one to finish or stop it.`,
      { 'Retry-After': String(STREAM_RETRY_AFTER_S) },
    );
  }

  return {
    /**
     * One message (or regeneration) against the per-minute limit and one of the user's stream
     * slots for `leaseMs`, for the reply-opening script to take (both or neither).
     */
    admission(userId: string, token: string, leaseMs: number): Admission {
      return {
        keys: { rateLog: messagesKey(userId), streamSlots: streamsKey(userId) },
        args: {
          now: now().getTime(),
          windowMs: WINDOW_MS,
          perWindow: options.messagesPerMinute,
          slotLeaseMs: leaseMs,
          streamLimit: options.concurrentStreams,
          slotToken: token,
        },
      };
    },

    refusal,

    /**
     * Counts one message against MESSAGES_PER_MINUTE for work that costs a model call but opens
     * no reply (generate-title); throws the 429 when the user is over the limit.
     */
    async takeMessage(userId: string): Promise<void> {
      const waitMs = Number(
        await TAKE_MESSAGE_SCRIPT.run(
          cache,
          { rateLog: messagesKey(userId) },
          { now: now().getTime(), windowMs: WINDOW_MS, perWindow: options.messagesPerMinute, token: randomUUID() },
        ),
      );
      if (waitMs > 0) throw refusal(1, waitMs);
    },

    renewStream: streamSlots.renew,
    releaseStream: streamSlots.release,
  };
}
