import type { ChatMetadata, ChatResponse, ChatStatus, ListChatsResponse } from '@simorgh/contracts';
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import { queryKeys } from '../../api/query-keys';

/**
 * Edits every cached copy of a chat (each sidebar list and the chat's own record) in one go, so
 * the sidebar and the chat header never disagree, e.g. when a live title arrives.
 */

export type ChatPages = InfiniteData<ListChatsResponse, string | null>;
export type CacheSnapshot = Array<[QueryKey, unknown]>;

const PENDING_PREFIX = 'pending:';
let pendingCounter = 0;

export function isPendingChatId(chatId: string): boolean {
  return chatId.startsWith(PENDING_PREFIX);
}

/** The sidebar entry shown while the server creates a chat. */
export function placeholderChat(fields: Pick<ChatMetadata, 'chat_name' | 'user_id'>): ChatMetadata {
  pendingCounter += 1;
  const now = new Date().toISOString();
  return {
    chat_id: `${PENDING_PREFIX}${pendingCounter}`,
    chat_type: 'general',
    project_number: null,
    project_name: null,
    page_name: null,
    created_at: now,
    updated_at: now,
    message_count: 0,
    status: 'active',
    pinned: false,
    visibility: 'private',
    allowed_users: [],
    access: 'owner',
    ...fields,
  };
}

function statusOfListKey(key: QueryKey): ChatStatus | undefined {
  const status = key[2];
  return status === 'active' || status === 'archived' ? status : undefined;
}

export function snapshotChats(queryClient: QueryClient): CacheSnapshot {
  return queryClient.getQueriesData({ queryKey: queryKeys.chats });
}

export function restoreChats(queryClient: QueryClient, snapshot: CacheSnapshot): void {
  for (const [key, data] of snapshot) queryClient.setQueryData(key, data);
}

function mapPages(data: ChatPages | undefined, map: (chats: ChatMetadata[]) => ChatMetadata[]): ChatPages | undefined {
  if (data === undefined) return undefined;
  return { ...data, pages: data.pages.map((page) => ({ ...page, chats: map(page.chats) })) };
}

/** Applies `patch` to the chat everywhere; drops it from lists whose status it no longer has. */
export function patchChat(queryClient: QueryClient, chatId: string, patch: Partial<ChatMetadata>): void {
  for (const [key] of queryClient.getQueriesData<ChatPages>({ queryKey: queryKeys.chatLists })) {
    const listStatus = statusOfListKey(key);
    queryClient.setQueryData<ChatPages>(key, (data) =>
      mapPages(data, (chats) =>
        chats.flatMap((chat) => {
          if (chat.chat_id !== chatId) return [chat];
          const next = { ...chat, ...patch };
          return listStatus !== undefined && next.status !== listStatus ? [] : [next];
        }),
      ),
    );
  }
  queryClient.setQueryData<ChatResponse>(queryKeys.chat(chatId), (data) =>
    data === undefined ? undefined : { chat: { ...data.chat, ...patch } },
  );
}

export function removeChat(queryClient: QueryClient, chatId: string): void {
  queryClient.setQueriesData<ChatPages>({ queryKey: queryKeys.chatLists }, (data) =>
    mapPages(data, (chats) => chats.filter((chat) => chat.chat_id !== chatId)),
  );
}

/** Puts a chat at the top of the active list (newest first), creating the list if not loaded. */
export function prependChat(queryClient: QueryClient, chat: ChatMetadata): void {
  queryClient.setQueryData<ChatPages>(queryKeys.chatList('active'), (data) => {
    if (data === undefined || data.pages.length === 0) {
      return { pages: [{ chats: [chat], next_cursor: null }], pageParams: [null] };
    }
    const [first, ...rest] = data.pages;
    const withoutDuplicate = (first?.chats ?? []).filter((existing) => existing.chat_id !== chat.chat_id);
    return {
      ...data,
      pages: [{ chats: [chat, ...withoutDuplicate], next_cursor: first?.next_cursor ?? null }, ...rest],
    };
  });
}

export function replaceChat(queryClient: QueryClient, oldChatId: string, chat: ChatMetadata): void {
  queryClient.setQueriesData<ChatPages>({ queryKey: queryKeys.chatLists }, (data) =>
    mapPages(data, (chats) => chats.map((existing) => (existing.chat_id === oldChatId ? chat : existing))),
  );
  queryClient.setQueryData<ChatResponse>(queryKeys.chat(chat.chat_id), { chat });
}
