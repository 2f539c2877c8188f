import type { ChatStatus, UsageGroupBy } from '@simorgh/contracts';

/** Every React Query key in one place, so invalidation and cache edits cannot drift apart. */
export const queryKeys = {
  chats: ['chats'] as const,
  chatLists: ['chats', 'list'] as const,
  chatList: (status: ChatStatus) => ['chats', 'list', status] as const,
  /** Chats others share with the user (GET /api/chats?scope=shared). */
  sharedChatList: ['chats', 'list', 'shared'] as const,
  chat: (chatId: string) => ['chats', 'detail', chatId] as const,
  messages: (chatId: string) => ['chats', 'messages', chatId] as const,
  project: (projectNumber: string) => ['projects', projectNumber] as const,
  search: (q: string) => ['search', q] as const,
  users: (q: string, projectNumber: string | null) => ['users', q, projectNumber ?? ''] as const,
  userNames: (ids: string) => ['user-names', ids] as const,
  me: ['me'] as const,
  usage: (from: string, to: string, groupBy: UsageGroupBy, limit: number) => ['admin', 'usage', from, to, groupBy, limit] as const,
};
