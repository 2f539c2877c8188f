/**
 * Writes a reply's events to the chat's event stream, one write after another in order, each
 * reaching `deliver` (the requester's own stream) with its event IDs once stored, so the
 * requester sees the events in ID order whichever way each was stored. Tokens are batched: the
 * first is written at once (it is what a user waits for), later ones are joined into one delta
 * per interval, so a reply costs Redis at most one write per `intervalMs` however fast the model.
 */
import type { EventFrame, StreamEvent } from '@simorgh/contracts';

/** Stores events (as JSON); their IDs, 'lost' when the reply is no longer ours, 'gone' when the chat was deleted. */
export type StoreEvents = (events: string[]) => Promise<string[] | 'lost' | 'gone'>;

export const DELTA_INTERVAL_MS = 40;

export type ReplyWriter = ReturnType<typeof createReplyWriter>;

export function createReplyWriter(options: {
  /** Stores a batch of the reply's tokens: one delta event and the text it adds. */
  storeDelta: (events: string[], text: string) => Promise<string[] | 'lost' | 'gone'>;
  deliver: (frame: EventFrame) => void;
  /** The reply is no longer this writer's to write (recovered elsewhere, or the chat deleted). */
  onEnded: (why: 'lost' | 'gone') => void;
  onError: (error: unknown) => void;
  intervalMs?: number;
}) {
  const intervalMs = options.intervalMs ?? DELTA_INTERVAL_MS;
  let pending: { message_id: string; content: string } | null = null;
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = Number.NEGATIVE_INFINITY;
  let chain: Promise<unknown> = Promise.resolve();
  let ended: 'lost' | 'gone' | null = null;

  /** Stores `events` with `store` after every earlier write, then delivers them; resolves with the outcome. */
  function enqueue(events: StreamEvent[], store: StoreEvents): Promise<string[] | 'lost' | 'gone' | null> {
    const written = chain.then(async () => {
      let ids: string[] | 'lost' | 'gone';
      try {
        ids = await store(events.map((event) => JSON.stringify(event)));
      } catch (error) {
        options.onError(error);
        return null;
      }
      if (ids === 'lost' || ids === 'gone') {
        if (!ended) {
          ended = ids;
          options.onEnded(ids);
        }
        return ids;
      }
      events.forEach((event, index) => options.deliver({ id: ids[index] ?? null, event }));
      return ids;
    });
    chain = written;
    return written;
  }

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const delta = pending;
    pending = null;
    if (!delta || ended) return chain;
    lastWrite = performance.now();
    return enqueue([{ type: 'delta', ...delta }], (events) => options.storeDelta(events, delta.content)).then((result) => {
      // A batch Redis refused still reaches the requester, without an ID; followers miss it.
      if (result === null) options.deliver({ id: null, event: { type: 'delta', ...delta } });
    });
  };

  return {
    /** Adds a token of the reply; written now, or with the next batch. */
    delta(messageId: string, content: string): void {
      if (pending && pending.message_id === messageId) pending.content += content;
      else {
        if (pending) void flush();
        pending = { message_id: messageId, content };
      }
      if (timer) return;
      const wait = lastWrite + intervalMs - performance.now();
      if (wait <= 0) void flush();
      else timer = setTimeout(flush, wait);
    },

    /** Writes the pending tokens; resolves once everything given so far is stored. */
    flush,

    enqueue,

    /** Why the reply was taken from this writer, if it was. */
    get ended() {
      return ended;
    },
  };
}
