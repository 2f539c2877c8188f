import { MESSAGES_PAGE_DEFAULT, routes } from '@simorgh/contracts';
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

/** One page: the newest messages before the message `before`, or the newest of all. */
export function listMessages(chatId: string, before: string | null, signal?: AbortSignal) {
  return callRoute(routes.listMessages, {
    params: { id: chatId },
    query: { limit: MESSAGES_PAGE_DEFAULT, before: before ?? undefined },
    signal,
  });
}

/**
 * A chat's messages a page at a time, back in time: the first page is the newest, each next one
 * is older (see message-cache.ts for reading and editing them in order).
 */
export function messagesQueryOptions(chatId: string) {
  return infiniteQueryOptions({
    queryKey: queryKeys.messages(chatId),
    queryFn: ({ pageParam, signal }) => listMessages(chatId, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_before,
    // While a reply streams the cache is the truth; a background refetch would drop the draft.
    refetchOnWindowFocus: false,
  });
}

export function useMessages(chatId: string) {
  return useInfiniteQuery(messagesQueryOptions(chatId));
}
