import type { StoredChat } from '@simorgh/contracts';
import { LRUCache } from 'lru-cache';
import { needsMessageCount, normalizeMetadata } from './chat-metadata.js';

/** A chat ready for the wire: `json` is `chat` encoded, or null while its message count is unknown. */
export type RenderedChat = { chat: StoredChat; json: string | null };

type Remembered = { stored: string; rendered: RenderedChat };

/** Chats remembered per process: about 1 KB each. */
export const MAX_REMEMBERED_CHATS = 10_000;

/**
 * Turns stored metadata text into the wire object and its JSON, remembering the result per
 * chat while the stored text stays the same. The list reads the same chats over and over
 * (every sidebar refresh), and parsing, normalizing and encoding each one was most of a page's
 * cost per chat. Each answer is checked against the stored text it came from, so it is never
 * stale: any change to a chat's metadata is a different text. Legacy records without a
 * stored message count are not remembered; their count is read each time (`json` null).
 */
export function createChatRenderer(maxRemembered = MAX_REMEMBERED_CHATS) {
  const remembered = new LRUCache<string, Remembered>({ max: maxRemembered });

  return (chatId: string, stored: string): RenderedChat | null => {
    // peek: a hit leaves the order alone, so the chats stored longest ago go first.
    const known = remembered.peek(chatId);
    if (known?.stored === stored) return known.rendered;
    let raw: unknown;
    try {
      raw = JSON.parse(stored);
    } catch {
      return null;
    }
    const normalized = normalizeMetadata(chatId, raw, null);
    if (!normalized) return null;
    // Shared by every page that lists the chat until it changes.
    const chat = Object.freeze(normalized);
    if (needsMessageCount(raw)) return { chat, json: null };
    const rendered = { chat, json: JSON.stringify(chat) };
    remembered.set(chatId, { stored, rendered });
    return rendered;
  };
}

export type ChatRenderer = ReturnType<typeof createChatRenderer>;
