import { routes } from '@simorgh/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export function getProject(projectNumber: string, signal?: AbortSignal) {
  return callRoute(routes.getProject, { params: { project_number: projectNumber }, signal });
}

export function projectQueryOptions(projectNumber: string) {
  return queryOptions({
    queryKey: queryKeys.project(projectNumber),
    queryFn: ({ signal }) => getProject(projectNumber, signal),
    retry: false,
    // Access can change (permission revoked); a minute keeps re-typing cheap without going stale.
    staleTime: 60_000,
  });
}

/** A project the user may use; only asked for while `enabled`. */
export function useProject(projectNumber: string, { enabled }: { enabled: boolean }) {
  return useQuery({ ...projectQueryOptions(projectNumber), enabled });
}
