/**
 * Stopping a reply from another request (`POST /api/chats/:id/stop`, e.g. from a second tab).
 *
 * Each process keeps its open reply streams in a local registry. A stop request first tries
 * the local registry; if the reply is being written by another API process (the chat's
 * stream lock exists in Redis but not here), it publishes the session ID on a Redis channel that
 * every process subscribes to, and the process that owns the stream aborts it. Pub/sub is
 * fire-and-forget, which is enough: the owner saves the partial reply as "stopped" and its
 * stream ends as usual.
 */
import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';

type Abort = () => void;

export type StopBus = ReturnType<typeof createStopBus>;

export function createStopBus(options: {
  /** Publishes stop requests (any connection in normal mode). */
  publisher: RedisClient;
  /** A connection dedicated to SUBSCRIBE, or null to stay process-local. */
  subscriber: RedisClient | null;
  /** Channel name; includes the chat DB so deployments sharing a Redis do not stop each other's replies. */
  channel: string;
  logger: Logger;
}) {
  const active = new Map<string, Abort>();

  const abortLocal = (chatId: string): boolean => {
    const abort = active.get(chatId);
    if (!abort) return false;
    abort();
    return true;
  };

  let subscribed: Promise<void> | null = null;
  const subscribe = () => {
    if (!options.subscriber || subscribed) return;
    subscribed = options.subscriber
      .subscribe(options.channel, (chatId) => {
        abortLocal(chatId);
      })
      .catch((error: unknown) => {
        subscribed = null;
        options.logger.warn({ err: error }, 'could not subscribe to stop requests; stop works within this process only');
      });
  };
  subscribe();

  return {
    /** Registers an open reply of `chatId`; returns the function that removes it. */
    register(chatId: string, abort: Abort): () => void {
      subscribe();
      active.set(chatId, abort);
      return () => {
        if (active.get(chatId) === abort) active.delete(chatId);
      };
    },

    /** Whether this process is writing a reply in `chatId`. */
    running(chatId: string): boolean {
      return active.has(chatId);
    },

    /** Stops the reply of `chatId` here or, when `elsewhere` is true, in whichever process has it. */
    async stop(chatId: string, elsewhere: boolean): Promise<boolean> {
      if (abortLocal(chatId)) return true;
      if (!elsewhere) return false;
      await options.publisher.publish(options.channel, chatId);
      return true;
    },
  };
}
