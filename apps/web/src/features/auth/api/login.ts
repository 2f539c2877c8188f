import { routes, type LoginRequest } from '@simorgh/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { signIn } from '../../../api/auth-store';
import { callRoute } from '../../../api/client';

export function login(body: LoginRequest) {
  return callRoute(routes.login, { body });
}

/** Signs in with a TPMS account; resolves once the token is stored, rejects with an ApiError. */
export function useLogin() {
  const queryClient = useQueryClient();
  return useCallback(
    async (username: string, password: string) => {
      const response = await login({ username, password });
      // A new user must never see anything cached for the previous one.
      queryClient.clear();
      signIn(response.access_token, response.user);
    },
    [queryClient],
  );
}
