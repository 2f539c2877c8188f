/**
 * A chat's events: what happens to it (a reply's progress, renames, deletion…) as a stream
 * anyone who may open the chat can follow, from any API process, and pick up again after a
 * disconnect from the last event seen (Last-Event-ID) without a gap or a duplicate.
 *
 * Writers: the reply scripts compose EVENTS_LUA (events.scripts.ts) so an event is stored in the
 * same step as the change it tells of; anything else goes through publishChatEvent.
 */
import { randomUUID } from 'node:crypto';
import { compareEventIds, type EventFrame, type StreamEvent } from '@simorgh/contracts';
import type { EventHub } from './event-hub.js';
import type { EventLimits } from './events.scripts.js';
import { createEventsStore } from './events.store.js';
import { AppError } from '../../http/app-error.js';
import { createLeaseSlots } from '../../lease-slots.js';
import type { RedisClient } from '../../redis.js';

export { NO_EVENT_ID } from './events.scripts.js';

/** Where a follower starts: after an event it saw, from an event it needs, or live from now. */
export type FollowStart = { after: string } | { from: string } | 'live';

export type ChatEvents = ReturnType<typeof createChatEvents>;

/**
 * How long a follower's slot is held without renewal: an open stream renews it every third of
 * this, so the slots of a process that died free themselves within it.
 */
export const FOLLOW_LEASE_MS = 30_000;

/** A user's open event streams, across every API process (EVENT_STREAMS_PER_USER): see lease-slots.ts. */
export const followersKey = (userId: string) => `ratelimit:event-streams:${userId}`;

export function createChatEvents(options: {
  chat: RedisClient;
  /** The cache DB, where the per-user follower slots are kept. */
  cache: RedisClient;
  hub: EventHub;
  limits: EventLimits;
  followersPerUser: number;
  now: () => Date;
}) {
  const store = createEventsStore(options.chat, options.limits);
  const { hub } = options;
  const followers = createLeaseSlots({ cache: options.cache, key: followersKey, now: options.now });

  /**
   * The chat's kept events after the start, then its new ones as they are written, until
   * `signal` aborts. When the start is no longer kept, the first event is `reset` (with the ID
   * of the chat's last event) and live ones follow.
   */
  async function* stream(chatId: string, resolved: Awaited<ReturnType<typeof store.start>>, signal: AbortSignal): AsyncGenerator<EventFrame, void, undefined> {
    let cursor: string;
    let inclusive = false;
    if (resolved === null) {
      const live = await store.start(chatId, null, false);
      cursor = live && 'after' in live ? live.after : '0-0';
      yield { id: cursor === '0-0' ? null : cursor, event: { type: 'reset' } };
    } else if ('from' in resolved) {
      cursor = resolved.from;
      inclusive = true;
    } else {
      cursor = resolved.after;
    }
    // Followed before the replay is read, so nothing written meanwhile is missed; what both
    // deliver is passed on once, in ID order.
    const queued: EventFrame[] = [];
    let notify: (() => void) | null = null;
    const wakeUp = () => {
      notify?.();
      notify = null;
    };
    const unfollow = hub.follow(chatId, cursor, (frames) => {
      queued.push(...frames);
      wakeUp();
    });
    signal.addEventListener('abort', wakeUp);
    let last: string | null = inclusive ? null : cursor;
    const fresh = (frame: EventFrame) => frame.id === null || last === null || compareEventIds(frame.id, last) > 0;
    try {
      for (let more = true; more && !signal.aborted; ) {
        const page = await store.range(chatId, last ?? cursor, last === null);
        for (const frame of page.frames) {
          if (!fresh(frame)) continue;
          last = frame.id;
          yield frame;
          if (frame.event.type === 'chat_deleted') return;
        }
        if (page.last !== null) last = page.last;
        more = page.more;
      }
      while (!signal.aborted) {
        const frame = queued.shift();
        if (frame === undefined) {
          await new Promise<void>((resolve) => {
            notify = resolve;
          });
          continue;
        }
        if (!fresh(frame)) continue;
        last = frame.id;
        yield frame;
        if (frame.event.type === 'chat_deleted') return;
      }
    } finally {
      signal.removeEventListener('abort', wakeUp);
      unfollow();
    }
  }

  return {
    limits: options.limits,

    /** Stores `event` as the chat's newest event and returns its ID; every follower gets it. */
    publishChatEvent(chatId: string, event: StreamEvent): Promise<string> {
      return store.append(chatId, JSON.stringify(event));
    },

    /**
     * `userId`'s stream of the chat's events (see `stream`); refused (429) when the user already
     * has EVENT_STREAMS_PER_USER open, counted across every API process. The slot is held while
     * the stream is read (its lease renewed) and given back when it ends.
     */
    async follow(userId: string, chatId: string, start: FollowStart, signal: AbortSignal): Promise<AsyncIterable<EventFrame>> {
      const slot = randomUUID();
      if (!(await followers.take(userId, slot, FOLLOW_LEASE_MS, options.followersPerUser))) {
        throw new AppError('rate_limited', `You have ${options.followersPerUser} chats open live already. Close some tabs and try again.`, { 'Retry-After': '5' });
      }
      const release = () => followers.release(userId, slot).catch(() => undefined);
      let resolved: Awaited<ReturnType<typeof store.start>>;
      try {
        const since = start === 'live' ? null : 'after' in start ? start.after : start.from;
        resolved = await store.start(chatId, since, start !== 'live' && 'from' in start);
      } catch (error) {
        await release();
        throw error;
      }
      return (async function* held() {
        // Renewed only once read: a stream never read lets its lease lapse by itself.
        const renewal = setInterval(() => void followers.renew(userId, slot, FOLLOW_LEASE_MS).catch(() => undefined), FOLLOW_LEASE_MS / 3);
        renewal.unref();
        try {
          yield* stream(chatId, resolved, signal);
        } finally {
          clearInterval(renewal);
          await release();
        }
      })();
    },
  };
}
