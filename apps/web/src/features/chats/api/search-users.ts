import { routes } from '@simorgh/contracts';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function searchUsers(q: string, projectNumber: string | null, signal?: AbortSignal) {
  return callRoute(routes.searchUsers, { query: { q, project_number: projectNumber ?? undefined }, signal });
}

export function usersQueryOptions(q: string, projectNumber: string | null) {
  return queryOptions({
    queryKey: queryKeys.users(q, projectNumber),
    // When the text changes, React Query aborts the request for the text before.
    queryFn: ({ signal }) => searchUsers(q, projectNumber, signal),
    retry: false,
    staleTime: 30_000,
  });
}

/**
 * People to share with whose user ID or name starts with `q` (debounced and trimmed by the
 * caller); only those on the project when `projectNumber` is given. Nothing is asked for "".
 */
export function useUserSearch(q: string, projectNumber: string | null) {
  return useQuery({ ...usersQueryOptions(q, projectNumber), enabled: q !== '', placeholderData: keepPreviousData });
}

/**
 * Display names of people a chat is already shared with (the chat stores their IDs only).
 * Names change rarely: kept for the session once asked.
 */
export function useUserNames(userIds: readonly string[]) {
  const ids = [...userIds].sort().join(',');
  return useQuery({
    queryKey: queryKeys.userNames(ids),
    queryFn: ({ signal }) => callRoute(routes.userNames, { query: { ids }, signal }),
    enabled: ids !== '',
    retry: false,
    staleTime: Infinity,
  });
}
