import type { z } from 'zod';
import { ApiError, errorFromResponse, isAbortError, networkError, SESSION_EXPIRED_NOTICE } from './api-error';
import { getToken, signOut } from './auth-store';

export { ApiError } from './api-error';

type RequestOptions<S extends z.ZodType> = {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  schema: S;
  signal?: AbortSignal;
  /** Sign-in itself is the only call made without a token. */
  anonymous?: boolean;
};

/** Headers for an API call: JSON in, bearer token if signed in. */
export function apiHeaders(extra: Record<string, string> = {}): Headers {
  const headers = new Headers({ Accept: 'application/json', ...extra });
  const token = getToken();
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  return headers;
}

/**
 * Sends the request and turns any failure into an ApiError. A 401 on an authenticated call means
 * the token expired or was revoked: the user is signed out and sent to sign-in with a notice.
 */
export async function sendApiRequest(path: string, init: RequestInit, anonymous = false): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw networkError();
  }
  if (response.ok) return response;
  const error = await errorFromResponse(response);
  if (response.status === 401 && !anonymous) signOut(SESSION_EXPIRED_NOTICE);
  throw error;
}

/** Calls the API and parses the JSON response with its contract schema. */
export async function apiRequest<S extends z.ZodType>(path: string, options: RequestOptions<S>): Promise<z.infer<S>> {
  const { method = 'GET', body, schema, signal, anonymous = false } = options;
  const headers = apiHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' });
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal !== undefined) init.signal = signal;
  const response = await sendApiRequest(path, init, anonymous);
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(response.status, 'internal', 'The server sent a response that could not be read.');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(response.status, 'internal', 'The server sent a response in an unexpected format.');
  }
  return parsed.data;
}
