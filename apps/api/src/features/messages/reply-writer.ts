/**
 * Writes a reply's events to the chat's event stream, one write after another in order, each
 * reaching `deliver` (the requester's own stream) with its event IDs once stored, so the
 * requester sees the events in ID order whichever way each was stored. Tokens are batched: the
 * first is written at once (it is what a user waits for), later ones are joined into one delta
 * per interval, so a reply costs Redis at most one write per `intervalMs` however fast the model.
 *
 * The first delta does not wait for Redis: it is stored under the ID reserved for it when the
 * reply opened (`firstId`, see events.scripts.ts), so the requester gets it with that ID as soon
 * as its write is sent. Written before it is delivered, it is stored even if this process dies
 * right after; everything after it still waits for its own write.
 */
import type { EventFrame, StreamEvent } from '@simorgh/contracts';

/** Stores events (as JSON); their IDs, 'lost' when the reply is no longer ours, 'gone' when the chat was deleted. */
export type StoreEvents = (events: string[]) => Promise<string[] | 'lost' | 'gone'>;

export const DELTA_INTERVAL_MS = 40;

export type ReplyWriter = ReturnType<typeof createReplyWriter>;

export function createReplyWriter(options: {
  /** Stores a batch of the reply's tokens: one delta event and the text it adds, under `firstId` when given. */
  storeDelta: (events: string[], text: string, firstId?: string) => Promise<string[] | 'lost' | 'gone'>;
  /** The ID reserved for the reply's first event: its first delta is delivered with it before it is stored. */
  firstId?: string;
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
  /** Held until the first write: only a first delta written before anything else can use it. */
  let firstId = options.firstId;

  /** What a write came to: the events' IDs, or the end of the reply; null when Redis failed. */
  async function outcome(writing: Promise<string[] | 'lost' | 'gone'>): Promise<string[] | 'lost' | 'gone' | null> {
    let ids: string[] | 'lost' | 'gone';
    try {
      ids = await writing;
    } catch (error) {
      options.onError(error);
      return null;
    }
    if (ids === 'lost' || ids === 'gone') {
      if (!ended) {
        ended = ids;
        options.onEnded(ids);
      }
    }
    return ids;
  }

  /** Stores `events` with `store` after every earlier write, then delivers them; resolves with the outcome. */
  function enqueue(events: StreamEvent[], store: StoreEvents): Promise<string[] | 'lost' | 'gone' | null> {
    firstId = undefined;
    const written = chain.then(async () => {
      const ids = await outcome(store(events.map((event) => JSON.stringify(event))));
      if (Array.isArray(ids)) events.forEach((event, index) => options.deliver({ id: ids[index] ?? null, event }));
      return ids;
    });
    chain = written;
    return written;
  }

  /**
   * The first delta, when nothing was written before it: its write is sent, then it is delivered
   * with its reserved ID without waiting for the answer.
   */
  function sendFirst(event: StreamEvent & { type: 'delta' }, id: string): Promise<unknown> {
    firstId = undefined;
    const written = outcome(options.storeDelta([JSON.stringify(event)], event.content, id)).then((ids) => {
      // Only if the reservation was given up (see events.scripts.ts): followers get it under another ID.
      if (Array.isArray(ids) && ids[0] !== id) options.onError(new Error(`the first delta was stored as ${ids[0]}, not under its reserved ID ${id}`));
      return ids;
    });
    options.deliver({ id, event });
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
    if (firstId !== undefined) return sendFirst({ type: 'delta', ...delta }, firstId);
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
