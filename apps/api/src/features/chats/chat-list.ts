import type { StoredChat, ListChatsQuerySchema } from '@simorgh/contracts';
import type { z } from 'zod';
import type { ListPosition } from './chat-cursor.js';
import type { ChatRenderer, RenderedChat } from './chat-render.js';
import { userIndexKey, userPinnedKey } from './chats.scripts.js';
import type { ChatsStore, IndexEntry } from './chats.store.js';

type ListInput = z.output<typeof ListChatsQuerySchema>;

/**
 * Most index entries one request reads. A filter that matches rarely (archived chats, one
 * project among thousands) would otherwise read the whole index; past this the page is
 * returned short, with a cursor to go on from where the scan stopped.
 */
export const MAX_SCANNED_PER_PAGE = 2000;
const MAX_CHUNK = 200;

export type ListedChat = RenderedChat & { position: ListPosition };
/** `next` is where the following page starts; null once nothing is left. */
export type ListedPage = { items: ListedChat[]; next: ListPosition | null };

/**
 * Reads one page in list order (pinned first, then newest first, then ID descending), starting
 * strictly after `after`. The pinned set is read first, then the main index merged with the
 * owner's moved chats (MOVED_INDEX_LUA's buckets: chats moved to PostgreSQL leave the index);
 * each newest-first in chunks, each chunk's metadata in one MGET (and those moved out of Redis
 * from the process's copies or one PostgreSQL query), until the page plus one is found. The
 * first chunk is exactly that many (enough unless filters drop chats); later ones double. Cost
 * follows the page size, not the number of chats the user has.
 */
export async function readListPage(
  store: ChatsStore,
  render: ChatRenderer,
  userId: string,
  query: ListInput,
  after: ListPosition | null,
  moved: MovedMetadata,
): Promise<ListedPage> {
  const wanted = query.limit + 1;
  const items: ListedChat[] = [];
  let budget = MAX_SCANNED_PER_PAGE;
  let lastScanned: ListPosition | null = null;

  const parts: Array<{ pinned: boolean; after: ListPosition | null }> = [];
  if (!after || after.pinned) parts.push({ pinned: true, after });
  parts.push({ pinned: false, after: after && !after.pinned ? after : null });

  for (const part of parts) {
    // Each walk reads chunks of its own: the page's remainder first, then doubling.
    const chunks = () => {
      let chunk = wanted - items.length;
      return () => {
        const size = Math.min(chunk, budget);
        chunk = Math.min(MAX_CHUNK, chunk * 2);
        return size;
      };
    };
    const walk = part.pinned
      ? newestFirst(store, userPinnedKey(userId), part.after, chunks())
      : chunksOf(mergeNewestFirst([newestFirst(store, userIndexKey(userId), part.after, chunks()), movedNewestFirst(store, userId, part.after, chunks())]), chunks());
    for await (const entries of walk) {
      const texts = await metadataOf(store, entries, moved);
      for (const entry of entries) {
        const text = texts.get(entry.id);
        const position: ListPosition = { pinned: part.pinned, createdMs: entry.score, id: entry.id };
        lastScanned = position;
        budget -= 1;
        const rendered = text == null ? null : render(entry.id, text);
        // The main index and the moved chats hold pinned chats too: they were listed from the pinned set.
        if (!rendered || rendered.chat.pinned !== part.pinned || !matches(rendered.chat, userId, query)) continue;
        items.push({ chat: rendered.chat, json: rendered.json, position });
        if (items.length === wanted) {
          const page = items.slice(0, query.limit);
          return { items: page, next: page.at(-1)?.position ?? null };
        }
      }
      // A pinned position resumes the pinned part, then goes on to the rest.
      if (budget <= 0) return { items, next: lastScanned };
    }
  }
  return { items, next: null };
}

/**
 * The stored metadata of chats moved out of Redis among `chatIds` (from the process's copies or
 * one PostgreSQL query); `versions`, when known, the version each was moved at.
 */
export type MovedMetadata = (chatIds: string[], versions?: Array<string | null>) => Promise<Map<string, string>>;

/**
 * The stored metadata texts of index entries: entries from the moved-chats buckets from the
 * history by the version read with them; the others with one MGET, and those of them without
 * metadata in Redis (moved chats still in the index, as moved before the buckets) from the history.
 */
export async function metadataOf(store: ChatsStore, entries: IndexEntry[], moved: MovedMetadata): Promise<Map<string, string>> {
  const hot = entries.filter((entry) => entry.movedAt === undefined).map((entry) => entry.id);
  const away = entries.filter((entry) => entry.movedAt !== undefined);
  const [stored, fromBuckets] = await Promise.all([
    store.getManyStored(hot),
    away.length > 0 ? moved(away.map((entry) => entry.id), away.map((entry) => entry.movedAt ?? null)) : new Map<string, string>(),
  ]);
  const texts = new Map(fromBuckets);
  const missing: string[] = [];
  for (const [index, chatId] of hot.entries()) {
    const text = stored[index];
    if (text == null) missing.push(chatId);
    else texts.set(chatId, text);
  }
  if (missing.length > 0) for (const [chatId, text] of await moved(missing)) texts.set(chatId, text);
  return texts;
}

function matches(chat: StoredChat, userId: string, query: ListInput): boolean {
  if (chat.user_id !== userId) return false;
  if (query.status !== 'all' && chat.status !== query.status) return false;
  if (query.chat_type && chat.chat_type !== query.chat_type) return false;
  if (query.project_number && chat.project_number !== query.project_number) return false;
  return true;
}

/**
 * Walks an index ZSET newest first (score descending, then member descending, which is Redis's
 * REV order), strictly after `after`, one chunk per Redis call. Each call asks for scores up to
 * the last score seen, skipping the entries at that score already read, so equal creation
 * times never stall or repeat the walk.
 */
export async function* newestFirst(
  store: ChatsStore,
  key: string,
  after: ListPosition | null,
  chunkSize: () => number,
): AsyncGenerator<IndexEntry[]> {
  let maxScore = after ? after.createdMs : Number.POSITIVE_INFINITY;
  let offset = 0;
  for (;;) {
    const count = chunkSize();
    if (count <= 0) return;
    const entries = await store.rangeNewestFirst(key, maxScore, offset, count);
    const last = entries.at(-1);
    if (!last) return;
    const tiesAtLast = entries.filter((entry) => entry.score === last.score).length;
    offset = last.score === maxScore ? offset + tiesAtLast : tiesAtLast;
    maxScore = last.score;
    const fresh = after ? entries.filter((entry) => !(entry.score === after.createdMs && entry.id >= after.id)) : entries;
    if (fresh.length > 0) yield fresh;
    if (entries.length < count) return;
  }
}

/** The user's moved chats newest first, strictly after `after`, one chunk per Redis call. */
async function* movedNewestFirst(store: ChatsStore, userId: string, after: ListPosition | null, chunkSize: () => number): AsyncGenerator<IndexEntry[]> {
  let from: IndexEntry | null = after ? { score: after.createdMs, id: after.id } : null;
  for (;;) {
    const count = chunkSize();
    if (count <= 0) return;
    const entries = await store.movedNewestFirst(userId, from, count);
    const last = entries.at(-1);
    if (!last) return;
    yield entries;
    if (entries.length < count) return;
    from = last;
  }
}

/** Newer first: higher score, then the higher ID (Redis's REV order within a score). */
const newer = (a: IndexEntry, b: IndexEntry) => a.score > b.score || (a.score === b.score && a.id > b.id);

/**
 * How many index reads one page keeps in flight at most. A reader on many projects with chats
 * visible to the project has one index per project; reading them all at once would fill the
 * Redis client's bounded command queue (MAX_QUEUED_COMMANDS) and fail the page with 503.
 */
const READS_IN_FLIGHT = 50;

/** The entries of several newest-first walks as one newest-first walk, each chat once. */
export async function* mergeNewestFirst(walks: Array<AsyncGenerator<IndexEntry[]>>): AsyncGenerator<IndexEntry> {
  const heads = walks.map((walk) => ({ walk, buffer: [] as IndexEntry[], done: false }));
  const seen = new Set<string>();
  for (;;) {
    const empty = heads.filter((head) => head.buffer.length === 0 && !head.done);
    for (let start = 0; start < empty.length; start += READS_IN_FLIGHT) {
      await Promise.all(
        empty.slice(start, start + READS_IN_FLIGHT).map(async (head) => {
          while (head.buffer.length === 0 && !head.done) {
            const step = await head.walk.next();
            if (step.done) head.done = true;
            else head.buffer.push(...step.value);
          }
        }),
      );
    }
    let best: (typeof heads)[number] | null = null;
    for (const head of heads) {
      const entry = head.buffer[0];
      if (entry && (!best || newer(entry, best.buffer[0] as IndexEntry))) best = head;
    }
    const entry = best?.buffer.shift();
    if (!entry) return;
    if (seen.has(entry.id)) continue;
    seen.add(entry.id);
    yield entry;
  }
}

/**
 * A walk of single entries in chunks of `chunkSize()` (the last may be short): what is at hand
 * when the walk's buffered reads run out is not waited on beyond the chunk.
 */
async function* chunksOf(entries: AsyncGenerator<IndexEntry>, chunkSize: () => number): AsyncGenerator<IndexEntry[]> {
  for (;;) {
    const size = chunkSize();
    if (size <= 0) return;
    const chunk: IndexEntry[] = [];
    while (chunk.length < size) {
      const next = await entries.next();
      if (next.done) break;
      chunk.push(next.value);
    }
    if (chunk.length === 0) return;
    yield chunk;
    if (chunk.length < size) return;
  }
}
