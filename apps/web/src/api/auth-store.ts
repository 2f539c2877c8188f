import { UserSchema, type User } from '@simorgh/contracts';
import { z } from 'zod';

/**
 * The signed-in user's token, kept in sessionStorage so it lives exactly as long as the browser
 * tab's session and is never shared with other tabs or left behind on a shared machine.
 * Lives outside React so the fetch wrapper can read it and sign the user out on a 401.
 */
const STORAGE_KEY = 'simorgh.auth';

const StoredAuthSchema = z.object({ token: z.string().min(1), user: UserSchema });
export type AuthState = z.infer<typeof StoredAuthSchema>;

export type AuthSnapshot = { auth: AuthState | null; notice: string | null };

let snapshot: AuthSnapshot = { auth: readStored(), notice: null };
const listeners = new Set<() => void>();

function readStored(): AuthState | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (raw === null) return null;
    const parsed = StoredAuthSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function publish(next: AuthSnapshot): void {
  snapshot = next;
  for (const listener of listeners) listener();
}

export function getAuthSnapshot(): AuthSnapshot {
  return snapshot;
}

export function getToken(): string | null {
  return snapshot.auth?.token ?? null;
}

export function subscribeAuth(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signIn(token: string, user: User): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, user }));
  publish({ auth: { token, user }, notice: null });
}

/** Clears the token; `notice` is shown on the sign-in page to explain why the user is there. */
export function signOut(notice: string | null = null): void {
  sessionStorage.removeItem(STORAGE_KEY);
  publish({ auth: null, notice });
}
