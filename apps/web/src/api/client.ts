import {
  routeUrl,
  type RouteBodyInput,
  type RouteDefinition,
  type RouteParamsInput,
  type RouteQueryInput,
  type RouteResponse,
} from '@simorgh/contracts';
import { ApiError, errorFromResponse, isAbortError, networkError, SESSION_EXPIRED_NOTICE } from './api-error';
import { getToken, signOut } from './auth-store';

export { ApiError } from './api-error';

/** A field the route needs is required; one it does not have cannot be passed. */
type Field<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined } : { [P in K]: T };

/** What a call to `route` sends: its path parameters, query and body as the contract types them. */
export type RouteInput<R> = Field<'params', RouteParamsInput<R>> &
  Field<'query', RouteQueryInput<R>> &
  Field<'body', RouteBodyInput<R>> & { signal?: AbortSignal };

/** The body of the route's successful answer. */
export type RouteResult<R> = RouteResponse<R> extends { body: infer B } ? B : never;

type UrlValues = Record<string, string | number | boolean | null | undefined>;

/**
 * Sends a request to `route` and turns any failure into an ApiError. A 401 on a route that needs
 * a signed-in user means the token expired or was revoked: the user is signed out and sent to
 * sign-in with a notice. Sign-in itself is public, so its 401 is only a wrong password.
 */
export async function sendRouteRequest(
  route: RouteDefinition,
  input: { params?: unknown; query?: unknown; body?: unknown; signal?: AbortSignal | undefined },
  accept = 'application/json',
): Promise<Response> {
  const headers = new Headers({ Accept: accept });
  const token = getToken();
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  const init: RequestInit = { method: route.method, headers };
  if (input.body !== undefined) {
    headers.set('Content-Type', 'application/json');
    init.body = JSON.stringify(input.body);
  }
  if (input.signal !== undefined) init.signal = input.signal;
  const url = routeUrl(route, input.params as Record<string, string | number> | undefined, input.query as UrlValues | undefined);

  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw networkError();
  }
  if (response.ok) return response;
  const error = await errorFromResponse(response);
  // Only if the token refused is still the one in use: a late answer to a request sent before a
  // sign-out (or with a previous user's token) must not sign out whoever is signed in now.
  if (response.status === 401 && route.access !== 'public' && getToken() === token) signOut(SESSION_EXPIRED_NOTICE);
  throw error;
}

/**
 * Calls a route of the contract table, e.g. `callRoute(routes.getChat, { params: { id } })`, and
 * parses the JSON answer with the route's response schema for the status that came back.
 */
export async function callRoute<R extends RouteDefinition>(route: R, input: RouteInput<R>): Promise<RouteResult<R>> {
  const response = await sendRouteRequest(route, input);
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(response.status, 'internal', 'The server sent a response that could not be read.');
  }
  const parsed = route.responses[response.status]?.safeParse(json);
  if (parsed === undefined || !parsed.success) {
    throw new ApiError(response.status, 'internal', 'The server sent a response in an unexpected format.');
  }
  return parsed.data as RouteResult<R>;
}
