import { routes } from '@simorgh/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function listMessages(chatId: string, signal?: AbortSignal) {
  return callRoute(routes.listMessages, { params: { id: chatId }, signal });
}

export function messagesQueryOptions(chatId: string) {
  return queryOptions({
    queryKey: queryKeys.messages(chatId),
    queryFn: ({ signal }) => listMessages(chatId, signal),
    // While a reply streams the cache is the truth; a background refetch would drop the draft.
    refetchOnWindowFocus: false,
  });
}

export function useMessages(chatId: string) {
  return useQuery(messagesQueryOptions(chatId));
}
