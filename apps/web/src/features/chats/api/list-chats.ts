import { LIST_LIMIT_DEFAULT, routes, type ChatStatus } from '@simorgh/contracts';
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function listChats(params: { status: ChatStatus; cursor: string | null }, signal?: AbortSignal) {
  const query = { limit: LIST_LIMIT_DEFAULT, status: params.status, cursor: params.cursor ?? undefined };
  return callRoute(routes.listChats, { query, signal });
}

export function chatListQueryOptions(status: ChatStatus) {
  return infiniteQueryOptions({
    queryKey: queryKeys.chatList(status),
    queryFn: ({ pageParam, signal }) => listChats({ status, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

/** The user's chats, newest first, a page at a time. */
export function useChatList(status: ChatStatus) {
  return useInfiniteQuery(chatListQueryOptions(status));
}
