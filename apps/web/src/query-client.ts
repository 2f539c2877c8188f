import { MutationCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { announceChatListsChanged } from './features/chats';

/**
 * Retries only what a retry can fix: network trouble and 5xx, never a 4xx answer. Every mutation
 * of the app changes the user's chats, so each one that succeeds tells the user's other tabs to
 * refresh their chat lists.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    mutationCache: new MutationCache({ onSuccess: () => announceChatListsChanged() }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (failures, error) =>
          failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
      mutations: { retry: false },
    },
  });
}
