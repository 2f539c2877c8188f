/**
 * One archive pass (run by archive-job.ts on a timer, or by an administrator): backfills chats
 * that predate the mirror, moves chats idle longer than the cutoff out of Redis, and deletes
 * chats idle longer than RETENTION_DAYS from both stores. One pass at a time across API
 * processes (a Redis lock with a lease). Each step works in bounded batches.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMessageId, MESSAGE_SEQ_WIDTH, parseSessionId } from '@simorgh/contracts';
import type { Clock } from '../../deps.js';
import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';
import { metadataKey, userIndexKey, userPinnedKey } from '../chats/chats.scripts.js';
import { messageSeqKey, messagesKey, streamLockKey } from '../messages/messages.scripts.js';
import { ARCHIVE_LOCK_KEY, EXPIRE_SCRIPT, INDEX_MOVED_SCRIPT, MOVE_SCRIPT, SNAPSHOT_SCRIPT, UNLOCK_SCRIPT, restoredKey } from './archive-scripts.js';
import type { ArchiveStore, WalkPosition } from './archive-store.js';
import { OUTBOX_KEY } from './history.scripts.js';

const DAY_MS = 86_400_000;
const BATCH = 200;
/** Past this many waiting outbox entries the mirror is behind: nothing is moved or backfilled. */
export const MAX_BACKLOG_TO_MOVE = 10_000;
/** A pass holds the lock this long at most; a process that died mid-pass frees it by expiry. */
const LOCK_LEASE_MS = 10 * 60_000;
/** How long a pass may backfill before it goes on (the rest waits for the next pass). */
const BACKFILL_BUDGET_MS = 20_000;
/**
 *   history:backfill   HASH: `cursor` of the SCAN over chat metadata keys, `done` once it went round.
 */
const BACKFILL_KEY = 'history:backfill';
/**
 *   history:moved-index   HASH: `after`, the last chat ID whose index member `indexMovedChats`
 *                         moved over; `done` once every chat moved before then was.
 */
const MOVED_INDEX_KEY = 'history:moved-index';
const METADATA_KEY = /^chat:(.+):metadata$/;

export type PassResult = { archived: number; deleted: number; backfilled: number };
export type PassOptions = {
  idleDays: number;
  retentionDays: number | undefined;
  /** After a backfill, wait this long for the queued chats to be mirrored so this pass can move them. */
  mirrorWaitMs?: number;
};

type PassDeps = { chat: RedisClient; store: ArchiveStore; clock: Clock; logger: Logger };

/** The ID of the newest outbox entry, or null when it is empty. */
async function lastOutboxId(chat: RedisClient): Promise<string | null> {
  const newest = (await chat.sendCommand(['XREVRANGE', OUTBOX_KEY, '+', '-', 'COUNT', '1'])) as Array<[string, unknown]>;
  return newest[0]?.[0] ?? null;
}

const idParts = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
const idAfter = (a: string, b: string) => {
  const [aMs, aSeq] = idParts(a);
  const [bMs, bSeq] = idParts(b);
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
};

/** Waits (at most `timeoutMs`) until every outbox entry written so far is in PostgreSQL. */
export async function waitMirrored(chat: RedisClient, timeoutMs: number): Promise<boolean> {
  const last = await lastOutboxId(chat);
  if (last === null) return true;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const oldest = (await chat.sendCommand(['XRANGE', OUTBOX_KEY, '-', '+', 'COUNT', '1'])) as Array<[string, unknown]>;
    const first = oldest[0]?.[0];
    if (first === undefined || idAfter(first, last)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** Takes the pass lock; with `waitMs`, waits that long for a pass running elsewhere. Null if not taken. */
export async function takePassLock(chat: RedisClient, waitMs = 0): Promise<string | null> {
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  for (;;) {
    if ((await chat.set(ARCHIVE_LOCK_KEY, token, { NX: true, PX: LOCK_LEASE_MS })) === 'OK') return token;
    if (Date.now() >= deadline) return null;
    await sleep(100);
  }
}

export async function releasePassLock(chat: RedisClient, token: string): Promise<void> {
  await UNLOCK_SCRIPT.run(chat, { lock: ARCHIVE_LOCK_KEY }, { token });
}

/**
 * Queues every chat PostgreSQL lacks, or holds fewer messages of than Redis, for the mirror (a
 * whole snapshot each); walks the chat keys once (SCAN, resumed where the last pass stopped) and
 * then never again: later chats reach PostgreSQL through the outbox. Returns the chats queued.
 */
export async function backfill(deps: PassDeps, budgetMs = BACKFILL_BUDGET_MS): Promise<number> {
  const { chat, store } = deps;
  const state = await chat.hGetAll(BACKFILL_KEY);
  if (state.done === '1') return 0;
  const deadline = Date.now() + budgetMs;
  let cursor = state.cursor ?? '0';
  let queued = 0;
  do {
    if (Date.now() >= deadline || (await chat.xLen(OUTBOX_KEY)) > MAX_BACKLOG_TO_MOVE) return queued;
    const reply = await chat.scan(cursor, { MATCH: 'chat:*:metadata', COUNT: 500 });
    cursor = String(reply.cursor);
    const ids = reply.keys.map((key) => METADATA_KEY.exec(key)?.[1]).filter((id): id is string => id !== undefined && parseSessionId(id) !== null);
    if (ids.length > 0) {
      const [mirrored, lengths] = await Promise.all([
        store.mirroredMessageCounts(ids),
        Promise.all(ids.map(async (id) => ((await chat.type(messagesKey(id))) === 'list' ? chat.lLen(messagesKey(id)) : 0))),
      ]);
      for (const [index, id] of ids.entries()) {
        if (mirrored.get(id) === lengths[index]) continue;
        const prefix = formatMessageId(id, 1).slice(0, -MESSAGE_SEQ_WIDTH);
        queued += Number(await SNAPSHOT_SCRIPT.run(chat, { meta: metadataKey(id), messages: messagesKey(id), outbox: OUTBOX_KEY }, { chatId: id, idPrefix: prefix, width: MESSAGE_SEQ_WIDTH }));
      }
    }
    await chat.hSet(BACKFILL_KEY, 'cursor', cursor);
  } while (cursor !== '0');
  await chat.hSet(BACKFILL_KEY, 'done', '1');
  if (queued > 0) deps.logger.info({ queued }, 'chats from before the history mirror queued for PostgreSQL');
  return queued;
}

/**
 * Once: moves the index member of every chat moved before the moved-chats buckets existed (it
 * stayed in its owner's index) into the buckets, walking PostgreSQL's moved chats in ID order
 * (resumed where the last pass stopped). Chats moved since are filed there by the move itself.
 */
export async function indexMovedChats(deps: PassDeps, budgetMs = BACKFILL_BUDGET_MS): Promise<number> {
  const { chat, store } = deps;
  const state = await chat.hGetAll(MOVED_INDEX_KEY);
  if (state.done === '1') return 0;
  const deadline = Date.now() + budgetMs;
  let after = state.after ?? '';
  let moved = 0;
  for (;;) {
    if (Date.now() >= deadline) return moved;
    const chats = await store.movedChats(after, BATCH);
    const last = chats.at(-1);
    if (!last) break;
    moved += Number(
      await INDEX_MOVED_SCRIPT.run(chat, {}, { chats: JSON.stringify(chats.map((c) => ({ id: c.chatId, user: c.userId, index: userIndexKey(c.userId) }))) }),
    );
    after = last.chatId;
    await chat.hSet(MOVED_INDEX_KEY, 'after', after);
  }
  await chat.hSet(MOVED_INDEX_KEY, 'done', '1');
  if (moved > 0) deps.logger.info({ moved }, "moved chats' index members filed with the owners' moved chats");
  return moved;
}

/** Moves every chat idle since before `cutoff` whose Redis copy is what PostgreSQL holds. */
async function moveIdle(deps: PassDeps, cutoff: Date): Promise<number> {
  const { chat, store } = deps;
  let after: WalkPosition | null = null;
  let moved = 0;
  for (;;) {
    const candidates = await store.moveCandidates(cutoff, after, BATCH);
    const last = candidates.at(-1);
    if (!last) return moved;
    after = { lastActivity: last.lastActivity, chatId: last.chatId };
    const statuses = await MOVE_SCRIPT.run(chat, { outbox: OUTBOX_KEY }, {
      maxBacklog: MAX_BACKLOG_TO_MOVE,
      candidates: JSON.stringify(
        candidates.map((c) => ({
          id: c.chatId,
          user: c.userId,
          version: c.version,
          count: c.messages,
          meta: metadataKey(c.chatId),
          messages: messagesKey(c.chatId),
          seq: messageSeqKey(c.chatId),
          lock: streamLockKey(c.chatId),
          restored: restoredKey(c.chatId),
          index: userIndexKey(c.userId),
        })),
      ),
    });
    if (!Array.isArray(statuses)) return moved;
    const done = candidates.filter((_, index) => statuses[index] === 'moved' || statuses[index] === 'already');
    moved += statuses.filter((status) => status === 'moved').length;
    await store.markMoved(done.map((c) => ({ chatId: c.chatId, version: c.version })));
    if (candidates.length < BATCH) return moved;
  }
}

/** Deletes every chat idle since before `cutoff`, from Redis here and from PostgreSQL by the mirror. */
async function expireIdle(deps: PassDeps, cutoff: Date): Promise<number> {
  const { chat, store } = deps;
  let after: WalkPosition | null = null;
  let deleted = 0;
  for (;;) {
    const candidates = await store.retentionCandidates(cutoff, after, BATCH);
    const last = candidates.at(-1);
    if (!last) return deleted;
    after = { lastActivity: last.lastActivity, chatId: last.chatId };
    for (const c of candidates) {
      deleted += Number(
        await EXPIRE_SCRIPT.run(
          chat,
          {
            meta: metadataKey(c.chatId),
            index: userIndexKey(c.userId),
            pinned: userPinnedKey(c.userId),
            messages: messagesKey(c.chatId),
            messageSeq: messageSeqKey(c.chatId),
            lock: streamLockKey(c.chatId),
            outbox: OUTBOX_KEY,
          },
          { chatId: c.chatId, user: c.userId, cutoffIso: cutoff.toISOString(), cutoffMs: cutoff.getTime(), createdMs: c.createdMs },
        ),
      );
    }
    if (candidates.length < BATCH) return deleted;
  }
}

/** One pass, the lock already held. Retention first: a chat about to be deleted need not be moved. */
export async function runPass(deps: PassDeps, options: PassOptions): Promise<PassResult> {
  const started = performance.now();
  const now = deps.clock.now().getTime();
  const backfilled = await backfill(deps);
  if (backfilled > 0 && options.mirrorWaitMs) await waitMirrored(deps.chat, options.mirrorWaitMs);
  await indexMovedChats(deps);
  const deleted = options.retentionDays === undefined ? 0 : await expireIdle(deps, new Date(now - options.retentionDays * DAY_MS));
  const archived = await moveIdle(deps, new Date(now - options.idleDays * DAY_MS));
  deps.logger.info({ archived, deleted, backfilled, ms: Math.round(performance.now() - started) }, 'archive pass');
  return { archived, deleted, backfilled };
}
