import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';

/** Retries only what a retry can fix: network trouble and 5xx, never a 4xx answer. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
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
