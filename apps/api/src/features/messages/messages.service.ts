import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseMessageId, PLACEHOLDER_TITLE, type EventFrame, type ListMessagesResponse, type Message, type MessageUsage, type StreamEvent } from '@simorgh/contracts';
import type { Clock } from '../../deps.js';
import { AppError, chatNotFound } from '../../http/app-error.js';
import type { Logger } from '../../logger.js';
import { secondsSince, type Metrics } from '../../metrics.js';
import { REPLICA_ACK_DETAIL, ReplicaAckError } from '../../redis.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { HistoryService } from '../history/history.service.js';
import { NO_EVENT_ID, type ChatEvents, type FollowStart } from '../events/events.service.js';
import { estimateUsage, LlmError, type LlmService } from '../llm/llm.service.js';
import { INTERRUPTED_DETAIL, type MessagesStore, type OpenedReply } from './messages.store.js';
import { createReplyWriter } from './reply-writer.js';
import type { EarlyRequest, EarlyRequests } from './early-model-request.js';
import { buildModelTurns, HISTORY_CHAR_BUDGET, systemPromptFor } from './model-context.js';
import type { ReplyLimits } from './reply-limits.js';
import type { StopBus } from './stop-bus.js';

export type MessagesServiceOptions = {
  /** How long a finished reply keeps its stream open for a title still being generated. */
  titleWaitMs?: number;
  historyCharBudget?: number;
  /**
   * Lease of a reply (and the user's reply slot), renewed every third of it while the reply is
   * written; a reply whose lease lapsed is recovered by any process (its writer died).
   */
  leaseMs?: number;
  /** Tokens are written to the chat's events at most once per this interval. */
  deltaIntervalMs?: number;
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
export const DEFAULT_LEASE_MS = 15_000;
/** A reply's lock outlives its lease, so the process recovering a dead writer's reply finds it. */
const LOCK_LEASES = 4;

const noop = () => undefined;

/**
 * Why a reply ended early: someone pressed stop, the chat was deleted, or the reply was
 * recovered by another process after this one stopped renewing its lease.
 */
type StopReason = 'stop' | 'gone' | 'lost';

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
  events: ChatEvents;
  /** The display name a user message is signed with (TPMS `users`). */
  authors: { displayName(userId: string): Promise<string> };
  /** The model asked while a reply is admitted, when this process knows the chat's history. */
  early?: EarlyRequests;
  options?: MessagesServiceOptions;
}) {
  const { clock, logger, metrics, chats, llm, store, limits, stopBus, events, authors, early } = deps;
  const moved = deps.history;
  const titleWaitMs = deps.options?.titleWaitMs ?? 4000;
  const historyCharBudget = deps.options?.historyCharBudget ?? HISTORY_CHAR_BUDGET;
  const leaseMs = deps.options?.leaseMs ?? DEFAULT_LEASE_MS;
  const deltaIntervalMs = deps.options?.deltaIntervalMs;
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
   * are ordinary JSON errors (404, 403, 429, 409, 503) rather than events. One round trip before the
   * model is called for a general chat: the chat's read (the chats service's access check, as
   * the rest of the app sees it) and one script that admits the reply against the sender's own
   * limits, checks that the sender may still write there, takes the chat's lock, reads its
   * history, reserves the new message IDs and saves the user message (one fsync wait) go out
   * together. A project chat's script stops before taking anything until the read has
   * re-checked the sender's TPMS access; then it runs again. Only the owner may regenerate.
   */
  async function begin(userId: string, chatId: string, content: string | undefined) {
    const token = randomUUID();
    let asking: Promise<EarlyRequest | null> | null = null;
    // Saved before the model is called: whatever happens next, the message is kept. Signed with
    // its author, since a shared chat has several.
    const userMessage =
      content !== undefined
        ? ({ role: 'user', content, created_at: nowIso(), status: 'complete', author_id: userId, author_name: await authors.displayName(userId) } as const)
        : null;
    const admission = limits.admission(userId, token, leaseMs);
    const open = (projectChecked: boolean) =>
      store.openReply(chatId, token, {
        ...(userMessage ? { reserve: 2, userMessage } : { reserve: 0 }),
        admission,
        writer: userId,
        projectChecked,
        historyLimit: HISTORY_MAX_MESSAGES,
        maxMessages: maxMessagesPerChat,
        lockMs: leaseMs * LOCK_LEASES,
        leaseUntil: clock.now().getTime() + leaseMs,
        startedAt: nowIso(),
        model: llm.chatModel,
      });
    let opened: OpenedReply | null = null;
    try {
      const read = userMessage ? chats.openChat(userId, chatId).then(({ chat }) => chat) : chats.ownChat(userId, chatId, 'regenerate a reply');
      const admitting = open(false);
      // Sent once the script is on its way, confirmed or aborted when it answers (see early-model-request.ts).
      if (content !== undefined && early && !stopBus.running(chatId)) asking = early.start(userId, chatId, content, { maxMessages: maxMessagesPerChat, budgetChars: historyCharBudget });
      const [owned, first] = await Promise.allSettled([read, admitting]);
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
        await store.nameReply(chat.chat_id, token, replyId);
      }
      return { chat, token, history, userMessage: opened.userMessage, userEventId: opened.userEventId, firstEventId: opened.firstEventId, replyId, asked: await asking };
    } catch (error) {
      (await asking)?.cancel();
      if (opened) await store.abandonReply(chatId, token).catch(() => undefined);
      await limits.releaseStream(userId, token).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Opens a reply and returns its events for the requester, in this order:
   *   user_message (new messages only) → delta* → [title] → assistant_message → [error] → [title] → done
   * The reply runs to its end whatever happens to the request: `signal` (the requester gone)
   * only stops this copy of its events. Every event is also written to the chat's events, for
   * anyone following the chat. Refusals are thrown before anything is returned.
   */
  async function streamReply(userId: string, chatId: string, content: string | undefined, signal: AbortSignal): Promise<AsyncIterable<EventFrame>> {
    const opened = await begin(userId, chatId, content);
    const frames = new Readable({ objectMode: true, read: noop });
    let open = true;
    const close = () => {
      if (open) frames.push(null);
      open = false;
    };
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
    runReply(userId, opened, (frame) => {
      if (open) frames.push(frame);
    }).then(close, (error: unknown) => {
      logger.error({ err: error, chat_id: chatId }, 'reply failed');
      close();
    });
    return frames;
  }

  async function runReply(
    userId: string,
    { chat, token, history, userMessage, userEventId, firstEventId, replyId, asked }: Awaited<ReturnType<typeof begin>>,
    deliver: (frame: EventFrame) => void,
  ): Promise<void> {
    const chatId = chat.chat_id;
    const controller = new AbortController();
    let stopReason: StopReason | null = null;
    const stop = (reason: StopReason) => {
      if (controller.signal.aborted) return;
      stopReason = reason;
      controller.abort();
    };
    const unregister = stopBus.register(chatId, () => stop('stop'));
    // The prompt's estimated tokens go with the first batch, so a process recovering this reply
    // after this one died can save it with an estimated usage.
    let promptTokens: number | undefined;
    const writer = createReplyWriter({
      storeDelta: (batch, text, firstId) => {
        const estimate = promptTokens;
        promptTokens = undefined;
        return store.appendReply(chatId, token, batch, text, firstId, estimate);
      },
      firstId: firstEventId,
      deliver,
      onEnded: (why) => stop(why),
      onError: (error) => logger.warn({ err: error, chat_id: chatId }, 'could not store reply events'),
      ...(deltaIntervalMs === undefined ? {} : { intervalMs: deltaIntervalMs }),
    });
    const renew = setInterval(() => {
      void Promise.all([
        store.renewReply(chatId, token, leaseMs * LOCK_LEASES, clock.now().getTime() + leaseMs),
        limits.renewStream(userId, token, leaseMs),
      ]).then(
        ([renewed]) => {
          if (renewed !== 'ok') stop(renewed);
        },
        (error: unknown) => logger.warn({ err: error }, 'could not renew the reply lease'),
      );
    }, Math.max(100, Math.floor(leaseMs / 3)));
    renew.unref();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      metrics.repliesRunning.dec();
      clearInterval(renew);
      unregister();
    };

    metrics.repliesRunning.inc();
    try {
      if (userMessage) deliver({ id: userEventId, event: { type: 'user_message', message: userMessage } });

      const startedAt = nowIso();
      const started = process.hrtime.bigint();
      const turns = buildModelTurns(systemPromptFor(llm.systemPrompt, chat), history, historyCharBudget);
      promptTokens = estimateUsage(turns, '', llm.chatModel).prompt_tokens;
      // The server's count if it sends one (its last chunk); otherwise estimated when the reply is saved.
      let usage: MessageUsage | null = null;
      const onUsage = (reported: MessageUsage) => {
        usage = reported;
      };
      const confirmed = asked?.take(turns, controller.signal, onUsage) ?? null;
      const pieces = confirmed?.pieces ?? llm.streamChat(turns, controller.signal, onUsage);
      const firstPiece = confirmed?.first ?? pieces.next();
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
          ? titleGate.then(() => autoTitle(chatId, firstUser.content))
          : null;
      // Published through the writer, so the requester gets every event in ID order.
      const publish = (event: StreamEvent) => writer.enqueue([event], async () => [await events.publishChatEvent(chatId, event)]);
      let titled: Promise<unknown> | null = null;
      void titling?.then((title) => {
        if (title) titled = publish({ type: 'title', chat_id: chatId, title });
      });

      let content = '';
      let answered = false;
      let failure: LlmError | null = null;
      try {
        for await (const piece of resume(pieces, firstPiece)) {
          // From when the model was asked: early, while the reply was admitted, or just now.
          if (!answered) metrics.firstToken.observe(secondsSince(confirmed?.askedAt ?? started));
          answered = true;
          content += piece;
          writer.delta(replyId, piece);
          startTitle();
        }
      } catch (error) {
        failure = error instanceof LlmError ? error : new LlmError('internal', 'The reply failed unexpectedly. Try again.');
        if (!(error instanceof LlmError)) logger.error({ err: error, chat_id: chatId }, 'reply failed');
        metrics.modelErrors.inc({ kind: failure.code });
      }
      await writer.flush();

      startTitle();
      const reply: Message = {
        message_id: replyId,
        role: 'assistant',
        content,
        created_at: startedAt,
        status: failure ? 'error' : stopReason === 'stop' ? 'stopped' : 'complete',
        ...(llm.chatModel ? { model: llm.chatModel } : {}),
        ...(failure ? { error: failure.detail } : {}),
        // A reply that failed before any text cost nothing to count; a partial one is estimated.
        usage: usage ?? (failure && !answered ? null : estimateUsage(turns, content, llm.chatModel)),
      };
      const closing: StreamEvent[] = [{ type: 'assistant_message', message: reply }];
      if (failure) closing.push({ type: 'error', detail: failure.detail, code: failure.code });
      const ending = writer.ended ?? (stopReason === 'lost' || stopReason === 'gone' ? stopReason : null);
      // Saved on the master but not confirmed by the replicas: shown, with a warning after it.
      let unconfirmed = false;
      const finished =
        ending ??
        (await writer.enqueue(closing, (jsons) =>
          store.finishReply(chatId, token, userId, reply, jsons, nowIso()).catch((error: unknown) => {
            unconfirmed = error instanceof ReplicaAckError;
            throw error;
          }),
        ));
      if (finished === null && !unconfirmed) logger.error({ chat_id: chatId }, 'could not save the reply');
      if (ending !== null) {
        // A deleted chat leaves the reply's record behind; a recovered reply was ended already.
        if (finished === 'gone') await store.abandonReply(chatId, token).catch(() => undefined);
        await limits.releaseStream(userId, token).catch(() => undefined);
      }
      metrics.replyDuration.observe({ status: reply.status }, secondsSince(started));
      if (Array.isArray(finished)) early?.remember(chat, [...history, reply], parseMessageId(replyId)?.seq ?? maxMessagesPerChat);
      end();
      logger.info(
        { chat_id: chatId, message_id: replyId, status: reply.status, stop: stopReason, chars: content.length },
        'reply finished',
      );
      if (Array.isArray(finished)) {
        // Delivered by the writer.
      } else if (unconfirmed) {
        logger.warn({ chat_id: chatId, message_id: replyId }, 'reply saved but not confirmed by the replicas');
        for (const event of closing) deliver({ id: null, event });
        deliver({ id: null, event: { type: 'error', detail: REPLICA_ACK_DETAIL, code: 'upstream_unavailable' } });
      } else if (finished === null) {
        deliver({ id: null, event: { type: 'error', detail: 'The reply could not be saved; try again shortly.', code: 'upstream_unavailable' } });
      } else if (finished === 'gone') {
        deliver({ id: null, event: { type: 'error', detail: 'This conversation was deleted.', code: 'not_found' } });
      } else {
        // Another process recovered the reply and told the chat's followers itself.
        deliver({ id: null, event: { type: 'error', detail: INTERRUPTED_DETAIL, code: 'upstream_unavailable' } });
      }
      // Give a title that is still on its way a moment to arrive on this stream.
      if (titling && Array.isArray(finished)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          titling,
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), titleWaitMs);
          }),
        ]);
        clearTimeout(timer);
        await titled;
      }
      if (Array.isArray(finished)) {
        const done = await publish({ type: 'done' });
        if (done === null) deliver({ id: null, event: { type: 'done' } });
      } else {
        deliver({ id: null, event: { type: 'done' } });
      }
    } finally {
      end();
    }
  }

  return {
    /** One page, oldest first: the newest `limit` messages before the message `before`. */
    async list(userId: string, chatId: string, query: { limit: number; before?: string | undefined }): Promise<ListMessagesResponse> {
      await chats.openChat(userId, chatId);
      let before: { id: string; seq: number } | undefined;
      if (query.before !== undefined) {
        const parsed = parseMessageId(query.before);
        if (parsed === null || parsed.sessionId !== chatId) throw unknownBefore();
        before = { id: query.before, seq: parsed.seq };
      }
      let page = await store.page(chatId, query.limit, before);
      // Nothing in Redis: the chat may be moved to PostgreSQL (no reply is being written then).
      if ((page === 'unknown' || page.messages.length === 0) && (await moved.isMoved(chatId))) {
        const lastEventId = page === 'unknown' ? NO_EVENT_ID : page.lastEventId;
        const kept = await moved.movedMessages(chatId, query.limit, before);
        page = kept === 'unknown' ? kept : { ...kept, writing: null, lastEventId };
      }
      if (page === 'unknown') throw unknownBefore();
      let messages = page.messages;
      const writing = page.writing;
      if (writing) {
        // The reply being written, in place of the one it replaces, or as the newest message.
        if (messages.some((message) => message.message_id === writing.message_id)) {
          messages = messages.map((message) => (message.message_id === writing.message_id ? writing : message));
        } else if (before === undefined) {
          messages = [...messages, writing];
        }
      }
      return { messages, next_before: page.nextBefore, last_event_id: page.lastEventId };
    },

    send(userId: string, chatId: string, content: string, signal: AbortSignal): Promise<AsyncIterable<EventFrame>> {
      return streamReply(userId, chatId, content, signal);
    },

    regenerate(userId: string, chatId: string, signal: AbortSignal): Promise<AsyncIterable<EventFrame>> {
      return streamReply(userId, chatId, undefined, signal);
    },

    /**
     * The chat's events for someone who may open it: after `lastEventId` when given; else the
     * reply being written from its first event, then what comes.
     */
    async follow(userId: string, chatId: string, lastEventId: string | undefined, signal: AbortSignal): Promise<AsyncIterable<EventFrame>> {
      await chats.openChat(userId, chatId);
      let start: FollowStart = 'live';
      if (lastEventId !== undefined) start = { after: lastEventId };
      else {
        const first = await store.replyStart(chatId);
        if (first) start = { from: first };
      }
      return events.follow(userId, chatId, start, signal);
    },

    /** True when a reply was being written (here or in another process) and was told to stop. */
    async stop(userId: string, chatId: string): Promise<boolean> {
      await chats.openChat(userId, chatId);
      return stopBus.stop(chatId, await store.isStreaming(chatId));
    },

    /**
     * Regenerates the title from `firstMessage` or the chat's first user message and
     * saves it, overwriting the current one (the user asked). Project chats keep their page
     * name: it is what ties them to the project page.
     */
    async generateTitle(userId: string, chatId: string, firstMessage: string | undefined): Promise<string> {
      const chat = await chats.ownChat(userId, chatId, 'retitle this chat');
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

