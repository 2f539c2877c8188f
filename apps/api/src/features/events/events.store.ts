import type { RedisClient } from '../../redis.js';
import { defineScript } from '../../redis-script.js';
import { EVENTS_LUA, eventsKey, reservedEventKey, type EventLimits } from './events.scripts.js';
import { framesOf } from './event-hub.js';
import type { EventFrame } from '@simorgh/contracts';

const APPEND_SCRIPT = defineScript({
  keys: ['events', 'reserved'],
  args: ['event', 'maxLen', 'retentionMs'],
  lua: `${EVENTS_LUA}
return append_event(k.events, k.reserved, a.event, a.maxLen, a.retentionMs)`,
});

/**
 * Where a follower starts, decided in one atomic read of the stream:
 *   `since` ''        → live from the last event (its ID)
 *   `since` id, `inclusive` '' → after that ID, if nothing after it was dropped
 *   `since` id, `inclusive` '1' → from that ID on, if it is still kept
 * Returns the exclusive cursor to read after, or false when events the follower needs are no
 * longer kept (or the ID is beyond the last event): it must start over.
 */
const START_SCRIPT = defineScript({
  keys: ['events'],
  args: ['since', 'inclusive'],
  lua: `${EVENTS_LUA}
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(x, y)
  local xm, xs = parse(x)
  local ym, ys = parse(y)
  return xm < ym or (xm == ym and xs < ys)
end
if a.since == '' then return last_event_id(k.events) end
if redis.call('EXISTS', k.events) == 0 then
  if a.since == '0-0' then return '0-0' end
  return false
end
local info = redis.call('XINFO', 'STREAM', k.events)
local fields = {}
for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
local last = fields['last-generated-id']
if before(last, a.since) then return false end
local first = fields['first-entry'] and fields['first-entry'][1] or last
if a.inclusive == '1' then
  if before(a.since, first) then return false end
  return {'from', a.since}
end
if not before(a.since, first) then return a.since end
if a.since == '0-0' and tonumber(fields['entries-added']) == tonumber(fields['length']) then return '0-0' end
return false`,
});

const REPLAY_PAGE = 500;

export type EventsStore = ReturnType<typeof createEventsStore>;

export function createEventsStore(chat: RedisClient, limits: EventLimits) {
  return {
    async append(chatId: string, json: string): Promise<string> {
      return String(await APPEND_SCRIPT.run(chat, { events: eventsKey(chatId), reserved: reservedEventKey(chatId) }, { event: json, maxLen: limits.maxLen, retentionMs: limits.retentionMs }));
    },

    /** The start of a follower (see START_SCRIPT): `{ after }` exclusive, `{ from }` inclusive, or null to start over. */
    async start(chatId: string, since: string | null, inclusive: boolean): Promise<{ after: string } | { from: string } | null> {
      const result = await START_SCRIPT.run(chat, { events: eventsKey(chatId) }, { since: since ?? '', inclusive: inclusive ? '1' : '' });
      if (Array.isArray(result)) return { from: String(result[1]) };
      if (typeof result === 'string') return { after: result };
      return null;
    },

    /**
     * Up to a page of kept events from `start` on (inclusive) or after it (exclusive); `last` is
     * the ID of the page's last entry, null when there was none; `more` when the page was full.
     */
    async range(chatId: string, start: string, inclusive: boolean): Promise<{ frames: EventFrame[]; last: string | null; more: boolean }> {
      const entries = (await chat.sendCommand([
        'XRANGE', eventsKey(chatId), inclusive ? start : `(${start}`, '+', 'COUNT', String(REPLAY_PAGE),
      ])) as Array<[string, string[]]>;
      return { frames: framesOf(entries), last: entries.at(-1)?.[0] ?? null, more: entries.length === REPLAY_PAGE };
    },
  };
}
