import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseMessageId, PLACEHOLDER_TITLE, type ListMessagesResponse, type Message, type MessageUsage, type StreamEvent } from '@simorgh/contracts';
import type { Clock } from '../../deps.js';
import { AppError, chatNotFound } from '../../http/app-error.js';
import type { Logger } from '../../logger.js';
import { secondsSince, type Metrics } from '../../metrics.js';
import { REPLICA_ACK_DETAIL, ReplicaAckError } from '../../redis.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { HistoryService } from '../history/history.service.js';
import { estimateUsage, LlmError, type LlmService } from '../llm/llm.service.js';
import type { MessagesStore, OpenedReply } from './messages.store.js';
import { buildModelTurns, HISTORY_CHAR_BUDGET, systemPromptFor } from './model-context.js';
import type { ReplyLimits } from './reply-limits.js';
import type { StopBus } from './stop-bus.js';

export type MessagesServiceOptions = {
  /** How long a finished reply keeps its stream open for a title still being generated. */
  titleWaitMs?: number;
  historyCharBudget?: number;
  /** Lease of the chat's stream lock and the user's stream slot, renewed while streaming. */
  leaseMs?: number;
  /** MAX_MESSAGES_PER_CHAT: a chat this long takes no new message (409). */
  maxMessagesPerChat?: number;
};

/**
 * The most stored messages a reply reads as its history: the newest ones, enough to fill
 * HISTORY_CHAR_BUDGET unless they average under 240 characters. The bound keeps the cost of the
 * script that opens a reply flat however long the chat grows.
 */
export const HISTORY_MAX_MESSAGES = 200;
const DEFAULT_MAX_MESSAGES_PER_CHAT = 2000;

const noop = () => undefined;

/** Why a reply ended early: the client went away, or someone pressed stop. */
type StopReason = 'disconnect' | 'stop';

export type MessagesService = ReturnType<typeof createMessagesService>;

const unknownBefore = () => new AppError('validation', 'before must be the ID of a message in this chat (a next_before from an earlier page).');

/** Iterates a generator whose first step was already started (to send its request early). */
async function* resume<T>(generator: AsyncGenerator<T, void, undefined>, first: Promise<IteratorResult<T, void>>): AsyncGenerator<T, void, undefined> {
  try {
    for (let step = await first; !step.done; step = await generator.next()) yield step.value;
  } finally {
    await generator.return(undefined);
  }
}

export function createMessagesService(deps: {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  chats: ChatsService;
  /** Chats moved out of Redis: their pages read from PostgreSQL, and brought back before a reply. */
  history: Pick<HistoryService, 'bringBackChat' | 'isMoved' | 'movedMessages'>;
  llm: LlmService;
  store: MessagesStore;
  limits: ReplyLimits;
  stopBus: StopBus;
  options?: MessagesServiceOptions;
}) {
  const { clock, logger, metrics, chats, llm, store, limits, stopBus } = deps;
  const moved = deps.history;
  const titleWaitMs = deps.options?.titleWaitMs ?? 4000;
  const historyCharBudget = deps.options?.historyCharBudget ?? HISTORY_CHAR_BUDGET;
  const leaseMs = deps.options?.leaseMs ?? 60_000;
  const maxMessagesPerChat = deps.options?.maxMessagesPerChat ?? DEFAULT_MAX_MESSAGES_PER_CHAT;
  const nowIso = () => clock.now().toISOString();

  /**
   * Generates and stores a title concurrently with the reply. The write is a compare-and-set
   * against the placeholder, so a rename by the user meanwhile wins. Resolves with the title
   * if it was written, null otherwise; never rejects.
   */
  async function autoTitle(chatId: string, firstMessage: string): Promise<string | null> {
    try {
      const { title, source } = await llm.titleFor(firstMessage);
      const written = await chats.setTitleIfPlaceholder(chatId, title);
      logger.debug({ chat_id: chatId, source, written }, 'automatic title');
      return written ? title : null;
    } catch (error) {
      logger.warn({ err: error, chat_id: chatId }, 'automatic title failed');
      return null;
    }
  }

  /**
   * Everything that can refuse the request happens here, before the stream opens, so refusals
   * are ordinary JSON errors (404, 429, 409, 503) rather than events. One round trip before the
   * model is called for a general chat: the chat's read (ownership, as the rest of the
   * app sees it) and one script that admits the reply against the user's limits, checks the
   * owner itself, takes the chat's lock, reads its history, reserves the new message IDs and
   * saves the user message (one fsync wait) go out together. A project chat's script stops
   * before taking anything until the read has re-checked the user's TPMS access; then it runs again.
   */
  async function begin(userId: string, chatId: string, content: string | undefined) {
    const token = randomUUID();
    // Saved before the model is called: whatever happens next, the message is kept.
    const userMessage = content !== undefined ? ({ role: 'user', content, created_at: nowIso(), status: 'complete' } as const) : null;
    const admission = limits.admission(userId, token, leaseMs);
    const open = (projectChecked: boolean) =>
      store.openReply(chatId, token, leaseMs, {
        ...(userMessage ? { reserve: 2, userMessage } : { reserve: 0 }),
        admission,
        owner: userId,
        projectChecked,
        historyLimit: HISTORY_MAX_MESSAGES,
        maxMessages: maxMessagesPerChat,
      });
    let opened: OpenedReply | null = null;
    try {
      const [owned, first] = await Promise.allSettled([chats.getOwnedChat(userId, chatId), open(false)]);
      if (first.status === 'fulfilled' && typeof first.value === 'object' && 'history' in first.value) opened = first.value;
      // The read decides 404 and 403, whatever the script said.
      if (owned.status === 'rejected') throw owned.reason;
      if (first.status === 'rejected') throw first.reason;
      const chat = owned.value;
      let opening = first.value === 'project' ? await open(true) : first.value;
      // A chat moved out of Redis is brought back whole, then the reply opens (access was checked by the read).
      if (opening === 'gone' && (await moved.bringBackChat(chat.chat_id))) opening = await open(true);
      if (opening === 'gone' || opening === 'project') throw chatNotFound(chat.chat_id);
      if (opening === 'full') {
        throw new AppError('conflict', `This chat is full (${maxMessagesPerChat} messages); start a new one.`);
      }
      if (opening === 'busy') {
        throw new AppError('conflict', 'A reply is still being written in this conversation. Stop it or wait for it to finish.');
      }
      if ('limited' in opening) throw limits.refusal(opening.limited.verdict, opening.limited.waitMs);
      opened = opening;
      let history = opened.history;
      let replyId: string;
      if (opened.userMessage) {
        const [nextId] = opened.reservedIds;
        if (!nextId) throw new Error('the reply ID was not reserved');
        history = [...history, opened.userMessage];
        replyId = nextId;
      } else {
        const lastUser = history.findLastIndex((message) => message.role === 'user');
        if (lastUser < 0) throw new AppError('conflict', 'There is no message to answer yet: send one first.');
        const replaced = history.slice(lastUser + 1).findLast((message) => message.role === 'assistant');
        history = history.slice(0, lastUser + 1);
        // The new reply takes the old one's place and ID, so clients replace it in place.
        replyId = replaced?.message_id ?? (await store.nextMessageId(chat.chat_id));
      }
      return { chat, token, history, userMessage: opened.userMessage, replyId };
    } catch (error) {
      if (opened) await store.unlockStream(chatId, token).catch(() => undefined);
      await limits.releaseStream(userId, token).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Opens a reply and returns its events, in this order:
   *   user_message (new messages only) → delta* → [title] → assistant_message → [error] → [title] → done
   * The assistant message is always saved — complete, stopped (client gone or stop pressed;
   * the partial text is kept) or error (with a readable `error`) — so each answered user
   * message has exactly one reply and the chat stays usable. The chat's lock and the
   * user's stream slot are released once the reply is saved, before a title is awaited.
   * Refusals are thrown before anything is returned. `signal` aborts when the client goes away.
   */
  async function streamReply(userId: string, chatId: string, content: string | undefined, signal: AbortSignal): Promise<AsyncIterable<StreamEvent>> {
    const opened = await begin(userId, chatId, content);
    // Pushed as they happen (a title may come at any point); the HTTP layer writes them out.
    const events = new Readable({ objectMode: true, read: noop });
    writeReply(userId, opened, signal, (event) => events.push(event)).then(
      () => events.push(null),
      (error: unknown) => events.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return events;
  }

  async function writeReply(
    userId: string,
    { chat, token, history, userMessage, replyId }: Awaited<ReturnType<typeof begin>>,
    signal: AbortSignal,
    send: (event: StreamEvent) => void,
  ): Promise<void> {
    const controller = new AbortController();
    let stopReason: StopReason | null = null;
    const stop = (reason: StopReason) => {
      if (controller.signal.aborted) return;
      stopReason = reason;
      controller.abort();
    };
    // The client went away: abort the upstream request at once.
    const disconnected = () => stop('disconnect');
    if (signal.aborted) disconnected();
    else signal.addEventListener('abort', disconnected, { once: true });
    const unregister = stopBus.register(chat.chat_id, () => stop('stop'));
    const renew = setInterval(() => {
      void Promise.all([
        store.renewStreamLock(chat.chat_id, token, leaseMs),
        limits.renewStream(userId, token, leaseMs),
      ]).catch((error: unknown) => logger.warn({ err: error }, 'could not renew the reply lease'));
    }, Math.max(1000, Math.floor(leaseMs / 3)));
    renew.unref();
    // The lock and the stream slot guard writing the reply, not waiting for its title: once the
    // reply is saved they are released, so the client may send its next message at once.
    let released: Promise<unknown> | null = null;
    const release = () => {
      if (!released) {
        metrics.repliesRunning.dec();
        clearInterval(renew);
        unregister();
        released = Promise.allSettled([store.unlockStream(chat.chat_id, token), limits.releaseStream(userId, token)]);
      }
      return released;
    };

    metrics.repliesRunning.inc();
    try {
      if (userMessage) send({ type: 'user_message', message: userMessage });

      const startedAt = nowIso();
      const started = process.hrtime.bigint();
      const turns = buildModelTurns(systemPromptFor(llm.systemPrompt, chat), history, historyCharBudget);
      // The server's count if it sends one (its last chunk); otherwise estimated when the reply is saved.
      let usage: MessageUsage | null = null;
      const pieces = llm.streamChat(turns, controller.signal, (reported) => {
        usage = reported;
      });
      const firstPiece = pieces.next();
      firstPiece.catch(() => undefined);

      // The title request waits until the reply's first token is out (or the reply ended): sent
      // together, its setup in this process and its answer competed with the first token. On
      // the next turn of the event loop, because a response write reaches the socket only after
      // the current microtasks, which the SDK's setup would otherwise fill.
      let startTitle = noop;
      const titleGate = new Promise<void>((resolve) => {
        startTitle = () => {
          startTitle = noop;
          setImmediate(resolve);
        };
      });
      const firstUser = history.find((message) => message.role === 'user');
      const titling =
        chat.chat_type === 'general' && chat.chat_name === PLACEHOLDER_TITLE && firstUser
          ? titleGate.then(() => autoTitle(chat.chat_id, firstUser.content))
          : null;
      let titleSent = false;
      const sendTitle = (title: string | null) => {
        if (title && !titleSent && !signal.aborted) {
          titleSent = true;
          send({ type: 'title', chat_id: chat.chat_id, title });
        }
      };
      void titling?.then(sendTitle);

      let content = '';
      let answered = false;
      let failure: LlmError | null = null;
      try {
        for await (const piece of resume(pieces, firstPiece)) {
          if (!answered) metrics.firstToken.observe(secondsSince(started));
          answered = true;
          content += piece;
          send({ type: 'delta', message_id: replyId, content: piece });
          startTitle();
        }
      } catch (error) {
        failure = error instanceof LlmError ? error : new LlmError('internal', 'The reply failed unexpectedly. Try again.');
        if (!(error instanceof LlmError)) logger.error({ err: error, chat_id: chat.chat_id }, 'reply failed');
        metrics.modelErrors.inc({ kind: failure.code });
      }

      startTitle();
      const reply: Message = {
        message_id: replyId,
        role: 'assistant',
        content,
        created_at: startedAt,
        status: failure ? 'error' : stopReason ? 'stopped' : 'complete',
        ...(llm.chatModel ? { model: llm.chatModel } : {}),
        ...(failure ? { error: failure.detail } : {}),
        // A reply that failed before any text cost nothing to count; a partial one is estimated.
        usage: usage ?? (failure && !answered ? null : estimateUsage(turns, content, llm.chatModel)),
      };
      const saved = await store.save(chat.chat_id, reply, nowIso()).catch((error: unknown) => {
        // Saved on the master, not confirmed by the replicas: shown, with a warning after it.
        if (error instanceof ReplicaAckError) return 'unconfirmed' as const;
        logger.error({ err: error, chat_id: chat.chat_id }, 'could not save the reply');
        return null;
      });
      metrics.replyDuration.observe({ status: reply.status }, secondsSince(started));
      // Before the assistant_message event: a client that answers it at once must find the lock free.
      await release();
      logger.info(
        { chat_id: chat.chat_id, message_id: replyId, status: reply.status, stop: stopReason, chars: content.length },
        'reply finished',
      );
      if (saved) send({ type: 'assistant_message', message: reply });
      if (failure) send({ type: 'error', detail: failure.detail, code: failure.code });
      if (saved === 'unconfirmed') {
        logger.warn({ chat_id: chat.chat_id, message_id: replyId }, 'reply saved but not confirmed by the replicas');
        send({ type: 'error', detail: REPLICA_ACK_DETAIL, code: 'upstream_unavailable' });
      } else if (saved === null) {
        send({ type: 'error', detail: 'The reply could not be saved; try again shortly.', code: 'upstream_unavailable' });
      } else if (saved === false) {
        send({ type: 'error', detail: 'This conversation was deleted.', code: 'not_found' });
      }
      // Give a title that is still on its way a moment to arrive on this stream.
      if (titling && !signal.aborted && !titleSent) {
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          titling,
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), titleWaitMs);
          }),
        ]);
        clearTimeout(timer);
        sendTitle(waited);
      }
      send({ type: 'done' });
    } finally {
      signal.removeEventListener('abort', disconnected);
      await release();
    }
  }

  return {
    /** One page, oldest first: the newest `limit` messages before the message `before`. */
    async list(userId: string, chatId: string, query: { limit: number; before?: string | undefined }): Promise<ListMessagesResponse> {
      await chats.getOwnedChat(userId, chatId);
      let before: { id: string; seq: number } | undefined;
      if (query.before !== undefined) {
        const parsed = parseMessageId(query.before);
        if (parsed === null || parsed.sessionId !== chatId) throw unknownBefore();
        before = { id: query.before, seq: parsed.seq };
      }
      let page = await store.page(chatId, query.limit, before);
      // Nothing in Redis: the chat may be moved to PostgreSQL.
      if ((page === 'unknown' || page.messages.length === 0) && (await moved.isMoved(chatId))) {
        page = await moved.movedMessages(chatId, query.limit, before);
      }
      if (page === 'unknown') throw unknownBefore();
      return { messages: page.messages, next_before: page.nextBefore };
    },

    send(userId: string, chatId: string, content: string, signal: AbortSignal): Promise<AsyncIterable<StreamEvent>> {
      return streamReply(userId, chatId, content, signal);
    },

    regenerate(userId: string, chatId: string, signal: AbortSignal): Promise<AsyncIterable<StreamEvent>> {
      return streamReply(userId, chatId, undefined, signal);
    },

    /** True when a reply was being written (here or in another process) and was told to stop. */
    async stop(userId: string, chatId: string): Promise<boolean> {
      await chats.getOwnedChat(userId, chatId);
      return stopBus.stop(chatId, await store.isStreaming(chatId));
    },

    /**
     * Regenerates the title from `firstMessage` or the chat's first user message and
     * saves it, overwriting the current one (the user asked). Project chats keep their page
     * name: it is what ties them to the project page.
     */
    async generateTitle(userId: string, chatId: string, firstMessage: string | undefined): Promise<string> {
      const chat = await chats.getOwnedChat(userId, chatId);
      if (chat.chat_type === 'project') return chat.chat_name;
      // Its first message is read from Redis, and the title written there.
      await moved.bringBackChat(chatId);
      const source = firstMessage ?? (await store.firstUserMessage(chatId))?.content;
      if (!source) {
        throw new AppError('validation', 'Send first_message, or send a message in this conversation first.');
      }
      // A model call like a reply's: it counts against MESSAGES_PER_MINUTE.
      await limits.takeMessage(userId);
      const { title } = await llm.titleFor(source);
      const updated = await chats.renameChat(userId, chatId, title);
      return updated.chat_name;
    },
  };
}

