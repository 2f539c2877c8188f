import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { getAuthSnapshot, signIn, signOut, subscribeAuth } from '../api/auth-store';
import { login } from '../api/endpoints';

/** The signed-in user (or null), plus sign-in and sign-out that also reset cached data. */
export function useAuth() {
  const { auth, notice } = useSyncExternalStore(subscribeAuth, getAuthSnapshot);
  const queryClient = useQueryClient();

  const signInWithPassword = useCallback(
    async (username: string, password: string) => {
      const response = await login({ username, password });
      // A new user must never see anything cached for the previous one.
      queryClient.clear();
      signIn(response.access_token, response.user);
    },
    [queryClient],
  );

  const signOutNow = useCallback(() => {
    signOut();
    queryClient.clear();
  }, [queryClient]);

  return { user: auth?.user ?? null, notice, signIn: signInWithPassword, signOut: signOutNow };
}
