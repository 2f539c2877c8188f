/**
 * The history feature for other features: how far the PostgreSQL mirror is behind, for health;
 * and chats moved out of Redis (archive-pass.ts): reading them from PostgreSQL, bringing one
 * back into Redis before it changes (`bringBackChat`), and running an archive pass.
 * The mirror itself (history-mirror.ts) and the periodic pass (archive-job.ts) are started by
 * server.ts; the test harness starts the mirror.
 */
import { MessageSchema, type HistoryHealth, type Message } from '@simorgh/contracts';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';
import { metadataKey, userIndexKey } from '../chats/chats.scripts.js';
import { messageSeqKey, messagesKey } from '../messages/messages.scripts.js';
import { releasePassLock, runPass, takePassLock, waitMirrored, type PassResult } from './archive-pass.js';
import { MOVED_VERSIONS_SCRIPT, RESTORE_SCRIPT, restoredKey } from './archive-scripts.js';
import { createArchiveStore } from './archive-store.js';
import { OUTBOX_KEY } from './history.scripts.js';

/** Beyond this the mirror counts as behind: health says degraded. */
export const HISTORY_LAG_DEGRADED_MS = 60_000;

export type HistoryCheckDeps = { chat: RedisClient; db: Kysely<unknown>; timeoutMs: number };

/** How old (ms) the oldest unmirrored change is, and how many there are. */
export async function outboxBacklog(chat: RedisClient): Promise<{ backlog: number; lagMs: number }> {
  const [length, oldest] = await Promise.all([
    chat.xLen(OUTBOX_KEY),
    chat.sendCommand(['XRANGE', OUTBOX_KEY, '-', '+', 'COUNT', '1']) as Promise<Array<[string, string[]]>>,
  ]);
  const firstId = oldest[0]?.[0];
  const lagMs = firstId ? Math.max(0, Date.now() - Number(firstId.split('-')[0])) : 0;
  return { backlog: Number(length), lagMs };
}

/**
 * PostgreSQL unreachable → unhealthy; reachable but the mirror more than a minute behind →
 * degraded. Either way chatting goes on: the caller reports the whole as degraded, not down.
 */
export async function checkHistory(deps: HistoryCheckDeps): Promise<HistoryHealth> {
  const started = performance.now();
  const [pgResult, outbox] = await Promise.allSettled([within(sql`SELECT 1`.execute(deps.db), deps.timeoutMs), within(outboxBacklog(deps.chat), deps.timeoutMs)]);
  const latency = Math.round(performance.now() - started);
  const lag = outbox.status === 'fulfilled' ? { lag_ms: outbox.value.lagMs, backlog: outbox.value.backlog } : {};
  if (pgResult.status === 'rejected') {
    const reason: unknown = pgResult.reason;
    return { status: 'unhealthy', detail: reason instanceof Error ? reason.message.slice(0, 200) : 'unreachable', ...lag };
  }
  if (outbox.status === 'fulfilled' && outbox.value.lagMs > HISTORY_LAG_DEGRADED_MS) {
    return { status: 'degraded', latency_ms: latency, detail: 'the mirror to PostgreSQL is behind', ...lag };
  }
  return { status: 'healthy', latency_ms: latency, ...lag };
}

/**
 * `work`, or a rejection once `ms` have passed without its answer. The statement timeout is the
 * server's: a PostgreSQL that hangs (stopped, or its host gone) would otherwise hold the caller
 * for as long as the connection lives. The work itself goes on and keeps its pool connection
 * until it ends; once every connection is held, waiting for one fails after the pool's own
 * connect timeout.
 */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export { isHistoryUnavailable, queryUsage, type UsageReportQuery } from './usage-report.js';

/**
 * A chat brought back is safe from the next move this long: the request that wanted it writes
 * to it at once (milliseconds later), and once written it is no longer mirrored-and-idle anyway.
 */
export const RESTORED_LEASE_MS = 5000;
/** A read of a moved chat on a request's path gives up after this (503, or the list leaves it out). */
export const HISTORY_READ_TIMEOUT_MS = 5000;
/** Moved chats' metadata texts a process keeps (about 0.5 KB each). */
export const MAX_REMEMBERED_MOVED = 20_000;
/** An administrator's pass waits this long for every earlier change to be mirrored. */
const MIRROR_WAIT_MS = 10_000;
const historyUnavailable = () =>
  new AppError('upstream_unavailable', 'This chat is kept in the history store, which is not answering right now. Try again shortly.');

export type HistoryServiceDeps = {
  chat: RedisClient;
  db: Kysely<unknown>;
  clock: Clock;
  logger: Logger;
  archive: { afterDays: number; retentionDays: number | undefined };
};

export function createHistoryService(deps: HistoryServiceDeps) {
  const { chat, logger } = deps;
  const store = createArchiveStore(deps.db);
  const passDeps = { chat, store, clock: deps.clock, logger };

  /** The version each chat was moved at (its marker), null for one not moved. */
  const movedVersions = async (chatIds: string[]): Promise<Array<string | null>> =>
    chatIds.length === 0 ? [] : ((await MOVED_VERSIONS_SCRIPT.run(chat, {}, { ids: JSON.stringify(chatIds) })) as Array<string | null>);
  const isMoved = async (chatId: string) => (await movedVersions([chatId]))[0] != null;

  /**
   * Moved chats' metadata texts as PostgreSQL holds them, by chat ID and row version. A row at
   * a version never changes, and a moved chat changes only after it is brought back (its marker,
   * which names the version, goes in the same step): so a copy found under the version a marker
   * names now is current in every process, and nothing needs telling when a chat changes.
   */
  const movedTexts = new LRUCache<string, string>({ max: MAX_REMEMBERED_MOVED });
  const textKey = (chatId: string, version: string) => `${chatId} ${version}`;

  /** PostgreSQL's failure, or no answer within `timeoutMs`, as the one 503 error. */
  async function fromHistory<T>(read: () => Promise<T>, timeoutMs: number | null = HISTORY_READ_TIMEOUT_MS): Promise<T> {
    try {
      return timeoutMs === null ? await read() : await within(read(), timeoutMs);
    } catch (error) {
      logger.warn({ err: error }, 'history store read failed');
      throw historyUnavailable();
    }
  }

  /**
   * Brings a chat moved out of Redis back, whole, before anything changes it: true when it was
   * brought back, false when it was not moved (hot, or deleted). Every write to a chat that
   * finds its metadata missing calls this and tries again.
   */
  async function bringBackChat(chatId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (!(await isMoved(chatId))) return false;
      const whole = await fromHistory(() => store.wholeChat(chatId));
      if (!whole) return false;
      const result = await RESTORE_SCRIPT.run(
        chat,
        {
          meta: metadataKey(chatId),
          messages: messagesKey(chatId),
          messageSeq: messageSeqKey(chatId),
          restored: restoredKey(chatId),
          index: userIndexKey(whole.userId),
          outbox: OUTBOX_KEY,
        },
        {
          chatId,
          version: whole.version,
          metadata: whole.metadata,
          messageList: JSON.stringify(whole.messages.map((message) => JSON.stringify(message))),
          leaseMs: RESTORED_LEASE_MS,
          owner: whole.userId,
          createdMs: whole.createdMs,
        },
      );
      if (result === 'restored') {
        logger.info({ chat_id: chatId, messages: whole.messages.length }, 'chat brought back into Redis');
        return true;
      }
      if (result === 'absent') return false;
      // 'stale': brought back and moved again since the snapshot; read it again.
    }
    throw new Error(`chat ${chatId} kept moving while it was being brought back`);
  }

  return {
    bringBackChat,
    isMoved,

    /** A moved chat's stored metadata (parsed), or null when the chat is not moved. */
    async movedChat(chatId: string): Promise<unknown | null> {
      if (!(await isMoved(chatId))) return null;
      // From PostgreSQL, never a copy: the routes of one chat answer alike (503 while it is down).
      const row = (await fromHistory(() => store.metadataTexts([chatId]))).get(chatId);
      return row === undefined ? null : (JSON.parse(row.metadata) as unknown);
    },

    /**
     * The stored metadata texts of moved chats among `chatIds`: this process's copies where the
     * chat's marker names the version copied, the rest in one query (and copied). PostgreSQL not
     * answering (within HISTORY_READ_TIMEOUT_MS): those it was asked for are left out (the list
     * shows the others). `known`: the versions their markers name, when the caller read them.
     */
    async movedMetadata(chatIds: string[], known?: Array<string | null>): Promise<Map<string, string>> {
      if (chatIds.length === 0) return new Map();
      const versions = known ?? (await movedVersions(chatIds));
      const texts = new Map<string, string>();
      const unknown: string[] = [];
      for (const [index, chatId] of chatIds.entries()) {
        const version = versions[index];
        const known = version == null ? undefined : movedTexts.get(textKey(chatId, version));
        if (known === undefined) unknown.push(chatId);
        else texts.set(chatId, known);
      }
      if (unknown.length === 0) return texts;
      try {
        for (const [chatId, row] of await within(store.metadataTexts(unknown), HISTORY_READ_TIMEOUT_MS)) {
          movedTexts.set(textKey(chatId, row.version), row.metadata);
          texts.set(chatId, row.metadata);
        }
      } catch (error) {
        logger.warn({ err: error, chats: unknown.length }, 'moved chats left out of a list: the history store did not answer');
      }
      return texts;
    },

    /** A page of a moved chat's messages, as the messages feature pages them in Redis. */
    async movedMessages(chatId: string, limit: number, before?: { id: string; seq: number }): Promise<{ messages: Message[]; nextBefore: string | null } | 'unknown'> {
      const page = await fromHistory(() => store.messagesPage(chatId, limit, before ?? null));
      if (page === 'unknown') return page;
      const messages = page.messages.flatMap((message) => {
        const parsed = MessageSchema.safeParse(message);
        return parsed.success ? [parsed.data] : [];
      });
      return { messages, nextBefore: page.more ? (messages[0]?.message_id ?? null) : null };
    },

    /**
     * One pass now (an administrator's): waits at most 10 s until every change made before the
     * call is mirrored, then moves chats idle `idleDays` (0: every chat without a reply being
     * written) and applies retention. Waits for a pass running elsewhere to finish first.
     */
    async runArchive(idleDays: number = deps.archive.afterDays): Promise<PassResult> {
      const token = await takePassLock(chat, 60_000);
      if (!token) throw new AppError('conflict', 'Another archive pass is still running; try again when it ends.');
      try {
        await waitMirrored(chat, MIRROR_WAIT_MS);
        // A pass may take longer than a read: PostgreSQL's statement timeout bounds its steps.
        return await fromHistory(() => runPass(passDeps, { idleDays, retentionDays: deps.archive.retentionDays, mirrorWaitMs: MIRROR_WAIT_MS }), null);
      } finally {
        await releasePassLock(chat, token);
      }
    },

    /** One pass on a timer: skipped when another process is running one. */
    async runScheduledArchive(): Promise<PassResult | null> {
      const token = await takePassLock(chat);
      if (!token) return null;
      try {
        return await runPass(passDeps, { idleDays: deps.archive.afterDays, retentionDays: deps.archive.retentionDays });
      } finally {
        await releasePassLock(chat, token);
      }
    },

    /** Per session-ID prefix, the highest number PostgreSQL knows of (held or deleted chats). */
    highestSessionNumbers: () => store.highestSessionNumbers(),
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
