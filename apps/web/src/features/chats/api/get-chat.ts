import { routes } from '@simorgh/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function getChat(chatId: string, signal?: AbortSignal) {
  return callRoute(routes.getChat, { params: { id: chatId }, signal });
}

export function chatQueryOptions(chatId: string) {
  return queryOptions({
    queryKey: queryKeys.chat(chatId),
    queryFn: ({ signal }) => getChat(chatId, signal),
  });
}

export function useChat(chatId: string) {
  return useQuery(chatQueryOptions(chatId));
}
