import { useQuery } from '@tanstack/react-query';
import { listMessages } from '../api/endpoints';
import { queryKeys } from '../api/query-keys';

export function useMessages(chatId: string) {
  return useQuery({
    queryKey: queryKeys.messages(chatId),
    queryFn: ({ signal }) => listMessages(chatId, signal),
    // While a reply streams the cache is the truth; a background refetch would drop the draft.
    refetchOnWindowFocus: false,
  });
}
