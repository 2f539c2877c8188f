import { routes, type UsageGroupBy } from '@simorgh/contracts';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';

export type UsageRange = { from: string; to: string };

export function getUsage(range: UsageRange, groupBy: UsageGroupBy, limit: number, signal?: AbortSignal) {
  return callRoute(routes.adminUsage, { query: { ...range, group_by: groupBy, limit }, signal });
}

export function usageQueryOptions(range: UsageRange, groupBy: UsageGroupBy, limit: number) {
  return queryOptions({
    queryKey: queryKeys.usage(range.from, range.to, groupBy, limit),
    queryFn: ({ signal }) => getUsage(range, groupBy, limit, signal),
    // The previous range stays on screen while the next one loads.
    placeholderData: keepPreviousData,
  });
}

/** One grouping of the usage report; asked for only while `enabled` (a valid range). */
export function useUsage(range: UsageRange, groupBy: UsageGroupBy, limit: number, enabled: boolean) {
  return useQuery({ ...usageQueryOptions(range, groupBy, limit), enabled });
}
