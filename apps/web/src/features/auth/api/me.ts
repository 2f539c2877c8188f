import { routes } from '@simorgh/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function getMe(signal?: AbortSignal) {
  return callRoute(routes.me, { signal });
}

export function meQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => getMe(signal),
    // Whether the user is an admin changes only with the API's configuration.
    staleTime: 5 * 60_000,
  });
}

/** The signed-in user as the API sees them, with whether they are an admin. */
export function useMe() {
  return useQuery(meQueryOptions());
}
