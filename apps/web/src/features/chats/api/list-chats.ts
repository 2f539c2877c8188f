import { LIST_LIMIT_DEFAULT, routes, type ChatStatus } from '@simorgh/contracts';
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

/** `mine`: the user's own chats in one status; `shared`: the active chats others share with them. */
export type ChatListKind = ChatStatus | 'shared';

export function listChats(params: { kind: ChatListKind; cursor: string | null }, signal?: AbortSignal) {
  const cursor = params.cursor ?? undefined;
  const query =
    params.kind === 'shared'
      ? { limit: LIST_LIMIT_DEFAULT, scope: 'shared' as const, cursor }
      : { limit: LIST_LIMIT_DEFAULT, status: params.kind, cursor };
  return callRoute(routes.listChats, { query, signal });
}

export function chatListQueryOptions(kind: ChatListKind) {
  return infiniteQueryOptions({
    queryKey: kind === 'shared' ? queryKeys.sharedChatList : queryKeys.chatList(kind),
    queryFn: ({ pageParam, signal }) => listChats({ kind, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

/** A list of chats, newest first, a page at a time. */
export function useChatList(kind: ChatListKind) {
  return useInfiniteQuery(chatListQueryOptions(kind));
}
