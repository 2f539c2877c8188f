import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { getAuthSnapshot, signOut, subscribeAuth } from '../../../api/auth-store';
import { useLogin } from '../api/login';
import { logout } from '../api/logout';

/** The signed-in user (or null), plus sign-in and sign-out that also reset cached data. */
export function useAuth() {
  const { auth, notice } = useSyncExternalStore(subscribeAuth, getAuthSnapshot);
  const queryClient = useQueryClient();
  const signInWithPassword = useLogin();

  const signOutNow = useCallback(() => {
    // Best effort: the request takes the token with it before the local sign-out below forgets
    // it, and the user is signed out here whether or not the server could be told.
    logout().catch(() => undefined);
    signOut();
    queryClient.clear();
  }, [queryClient]);

  return { user: auth?.user ?? null, notice, signIn: signInWithPassword, signOut: signOutNow };
}
