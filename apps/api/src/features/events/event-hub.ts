/**
 * One reader per API process for the events of every chat someone follows here. It blocks on a
 * single XREAD over all followed chats (its own connection) and hands each new event to the
 * followers of that chat in this process. A chat newly followed interrupts the read (CLIENT
 * UNBLOCK from another connection) so it is read at once. The alternative, one blocking
 * connection per follower, costs Redis a connection and a client buffer per open tab; this costs
 * one per process (see docs/decisions/reply-streams.md).
 */
import { StreamEventSchema, type EventFrame } from '@simorgh/contracts';
import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';
import { EVENTS_KEY_PREFIX, eventsKey } from './events.scripts.js';

/** How long one XREAD waits before it is sent again (the set of chats may have changed). */
export const HUB_BLOCK_MS = 5000;
const READ_COUNT = 500;
const chatIdOf = (key: string) => key.slice(EVENTS_KEY_PREFIX.length);

type RawEntry = [string, string[]];
export type Follower = (frames: EventFrame[]) => void;

/** A stored entry as the frame sent on the wire; null for an entry that is not an event. */
export function frameOf([id, fields]: RawEntry): EventFrame | null {
  const index = fields.indexOf('e');
  const json = index >= 0 ? fields[index + 1] : undefined;
  if (json === undefined) return null;
  const parsed = StreamEventSchema.safeParse(JSON.parse(json));
  return parsed.success ? { id, event: parsed.data } : null;
}

export const framesOf = (entries: RawEntry[]): EventFrame[] => entries.flatMap((entry) => frameOf(entry) ?? []);

export type EventHub = ReturnType<typeof createEventHub>;

export function createEventHub(options: { reader: RedisClient; control: RedisClient; logger: Logger; blockMs?: number }) {
  const { reader, control, logger } = options;
  const blockMs = options.blockMs ?? HUB_BLOCK_MS;
  const chats = new Map<string, { cursor: string; followers: Set<Follower> }>();
  let reading: Set<string> | null = null;
  let readerId: Promise<number> | null = null;
  let wake: (() => void) | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let lastWarning = 0;

  const warn = (error: unknown) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn({ err: { message: (error as Error)?.message ?? String(error) } }, 'reading chat events failed; retrying');
  };

  async function loop(): Promise<void> {
    while (!stopped) {
      if (chats.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      const keys = [...chats.keys()];
      const cursors = keys.map((chatId) => chats.get(chatId)?.cursor ?? '$');
      reading = new Set(keys);
      try {
        readerId ??= reader.sendCommand(['CLIENT', 'ID']) as Promise<number>;
        await readerId;
        const reply = (await reader.sendCommand([
          'XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(blockMs), 'STREAMS', ...keys.map(eventsKey), ...cursors,
        ])) as Array<[string, RawEntry[]]> | null;
        for (const [key, entries] of reply ?? []) {
          const chat = chats.get(chatIdOf(key));
          const last = entries.at(-1);
          if (!chat || !last) continue;
          chat.cursor = last[0];
          const frames = framesOf(entries);
          for (const follower of chat.followers) follower(frames);
        }
      } catch (error) {
        readerId = null;
        if (stopped) return;
        warn(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        reading = null;
      }
    }
  }

  /** Interrupts the blocked read so the next one includes a newly followed chat. */
  const interrupt = () => {
    if (wake) {
      wake();
      return;
    }
    const id = readerId;
    if (!reading || !id) return;
    void id
      .then((clientId) => control.sendCommand(['CLIENT', 'UNBLOCK', String(clientId)]))
      .catch((error: unknown) => warn(error));
  };

  return {
    /**
     * Hands `follower` every event of `chatId` read from now on; a chat new to the hub is read
     * from `after` (exclusive). Returns the function that stops it.
     */
    follow(chatId: string, after: string, follower: Follower): () => void {
      let chat = chats.get(chatId);
      if (!chat) {
        chat = { cursor: after, followers: new Set() };
        chats.set(chatId, chat);
        running ??= loop();
        if (!reading?.has(chatId)) interrupt();
      }
      chat.followers.add(follower);
      const followed = chat;
      return () => {
        followed.followers.delete(follower);
        if (followed.followers.size === 0 && chats.get(chatId) === followed) chats.delete(chatId);
      };
    },

    /** Chats followed in this process (for tests and metrics). */
    followedChats: () => chats.size,

    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      interrupt();
      await running?.catch(() => undefined);
    },
  };
}
