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
 * strictly after `after`. The pinned set is read first, then the main index; both newest-first
 * in chunks, each chunk's metadata in one MGET (and those moved out of Redis in one PostgreSQL
 * query), until the page plus one is found. The first
 * chunk is exactly that many (enough unless filters drop chats); later ones double. Cost
 * follows the page size, not the number of chats the user has.
 */
export async function readListPage(
  store: ChatsStore,
  render: ChatRenderer,
  userId: string,
  query: ListInput,
  after: ListPosition | null,
  /** The stored metadata of chats moved out of Redis among these (one query per chunk). */
  moved: (chatIds: string[]) => Promise<Map<string, string>>,
): Promise<ListedPage> {
  const wanted = query.limit + 1;
  const items: ListedChat[] = [];
  let budget = MAX_SCANNED_PER_PAGE;
  let lastScanned: ListPosition | null = null;

  const parts: Array<{ pinned: boolean; key: string; after: ListPosition | null }> = [];
  if (!after || after.pinned) parts.push({ pinned: true, key: userPinnedKey(userId), after });
  parts.push({ pinned: false, key: userIndexKey(userId), after: after && !after.pinned ? after : null });

  for (const part of parts) {
    let chunk = wanted - items.length;
    const nextChunk = () => {
      const size = Math.min(chunk, budget);
      chunk = Math.min(MAX_CHUNK, chunk * 2);
      return size;
    };
    for await (const entries of newestFirst(store, part.key, part.after, nextChunk)) {
      const stored = await store.getManyStored(entries.map((entry) => entry.id));
      // Index entries without metadata in Redis are chats moved to PostgreSQL.
      const missing = entries.filter((_, index) => stored[index] == null).map((entry) => entry.id);
      const fromHistory = await moved(missing);
      for (const [index, entry] of entries.entries()) {
        const text = stored[index] ?? fromHistory.get(entry.id);
        const position: ListPosition = { pinned: part.pinned, createdMs: entry.score, id: entry.id };
        lastScanned = position;
        budget -= 1;
        const rendered = text == null ? null : render(entry.id, text);
        // The main index holds pinned chats too: they were listed from the pinned set.
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
