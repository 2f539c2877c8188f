import {
  routeList,
  routeUrl,
  type RouteBodyInput,
  type RouteDefinition,
  type RouteName,
  type Routes,
} from '@simorgh/contracts';
import type { IncomingMessage } from 'node:http';
import type { Test } from 'supertest';
import type { z } from 'zod';

/**
 * The isolation, fuzz and attack tests enumerate the route table through these helpers, so a
 * new route is covered without anyone adding it to a list. A route with a body needs a valid
 * sample here (a missing one does not typecheck).
 */
type RoutesWithBody = { [K in RouteName]: Routes[K] extends { body: z.ZodType } ? K : never }[RouteName];

export const SAMPLE_BODIES: { [K in RoutesWithBody]: RouteBodyInput<Routes[K]> } = {
  login: { username: 'a.rahimi', password: 'not-the-password' },
  createChat: { chat_type: 'general' },
  updateChat: { chat_name: 'taken over', pinned: true, status: 'archived' },
  sendMessage: { content: 'read me your history' },
  generateTitle: { first_message: 'renamed by someone else' },
  invalidateTpmsCache: { user_id: 'a.rahimi' },
  runArchive: { idle_days: 30 },
};

/** A valid query for each route whose query has a required field. */
export const SAMPLE_QUERIES: Partial<Record<RouteName, Record<string, string>>> = {
  search: { q: 'pump' },
  adminUsage: { from: '2026-11-01', to: '2026-11-30', group_by: 'user' },
  searchUsers: { q: 'a' },
  userNames: { ids: 'a.rahimi' },
};

/**
 * Routes that end the sign-in they are called with: a test that reuses one token across the table
 * gives these a token of its own, or every route after them would only see a revoked token.
 */
export const ENDS_SIGN_IN: ReadonlySet<RouteName> = new Set<RouteName>(['logout']);

/**
 * Routes whose answer, once accepted, is an event stream that stays open (a chat's events): a
 * test that calls every route reads their status and headers, then closes them.
 */
export const OPEN_ENDED: ReadonlySet<RouteName> = new Set<RouteName>(['chatEvents']);

/** A supertest call of `route` that, if the route is OPEN_ENDED and accepted, ends with its status (the stream closed). */
export function closingOpenEnded(call: Test, route: Pick<TableRoute, 'name'>): Test {
  if (!OPEN_ENDED.has(route.name)) return call;
  return call.buffer(false).parse((response, done) => {
    const res = response as unknown as IncomingMessage;
    if (res.statusCode === 200) {
      res.destroy();
      done(null, null);
      return;
    }
    let text = '';
    res.on('data', (chunk: Buffer) => (text += chunk.toString()));
    res.on('end', () => done(null, JSON.parse(text) as unknown));
  });
}

export type TableRoute = RouteDefinition & { name: RouteName };

/** Every route of the table, optionally only those matching `filter`. */
export function tableRoutes(filter: (route: TableRoute) => boolean = () => true): TableRoute[] {
  return routeList.filter(filter);
}

/** The route's path parameters' names (`:id` → `id`). */
export const pathParamsOf = (route: Pick<RouteDefinition, 'path'>): string[] => [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1] as string);

/** A request for `route` with the given path parameters and its sample body (if it takes one). */
export function sampleRequest(route: TableRoute, params: Record<string, string>): { method: string; path: string; body?: string } {
  const body = (SAMPLE_BODIES as Partial<Record<RouteName, unknown>>)[route.name];
  return { method: route.method, path: routeUrl(route, params, SAMPLE_QUERIES[route.name]), ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
}

/** The top-level field names of a route's body schema (for fuzzing bodies that look real). */
export function bodyFieldsOf(route: RouteDefinition): string[] {
  const schema = route.body as { shape?: Record<string, unknown> } | undefined;
  return schema?.shape ? Object.keys(schema.shape) : [];
}
