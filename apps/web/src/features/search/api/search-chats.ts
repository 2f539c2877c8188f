import { routes } from '@simorgh/contracts';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function searchChats(q: string, signal?: AbortSignal) {
  return callRoute(routes.search, { query: { q }, signal });
}

export function searchQueryOptions(q: string) {
  return queryOptions({
    queryKey: queryKeys.search(q),
    // The signal is handed to fetch: when the text changes, React Query aborts the old request.
    queryFn: ({ signal }) => searchChats(q, signal),
    retry: false,
    staleTime: 10_000,
  });
}

/** Results for `q` (already debounced and trimmed); nothing is asked for an empty query. */
export function useSearch(q: string) {
  return useQuery({ ...searchQueryOptions(q), enabled: q !== '', placeholderData: keepPreviousData });
}
