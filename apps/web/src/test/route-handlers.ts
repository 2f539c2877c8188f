import { ErrorBodySchema, type ErrorCode, type RouteDefinition, type RouteResponse } from '@simorgh/contracts';
import { http, HttpResponse } from 'msw';
import { server } from './server';

/**
 * Handlers built from the route table: each answers one route at its method and path, and every
 * JSON answer goes through the route's response schema for its status, so a test can never feed
 * the app a response the real API could not send.
 */

export type RecordedRequest = {
  method: string;
  path: string;
  url: URL;
  params: Record<string, string>;
  /** The JSON the client sent, as sent. */
  body: unknown;
  headers: Headers;
  signal: AbortSignal;
};

/** A successful answer as the contract types it, or any Response (errors, streams, proxies). */
export type RouteReply<R> = RouteResponse<R> | Response;
type Resolver<R> = (request: RecordedRequest) => RouteReply<R> | Promise<RouteReply<R>>;

let recorded: RecordedRequest[] = [];

/** Forgets the requests of the previous test; the setup calls it before each one. */
export function resetRecordedRequests(): void {
  recorded = [];
}

/** Requests the handlers answered so far, optionally only those for one method and path. */
export function recordedRequests(method?: string, path?: string): RecordedRequest[] {
  return recorded.filter((call) => (method === undefined || call.method === method) && (path === undefined || call.path === path));
}

/** The JSON answer `reply` stands for, checked against the route's schema for its status. */
function routeResponse<R extends RouteDefinition>(route: R, reply: RouteResponse<R>): Response {
  const { status, body } = reply as { status: number; body: unknown };
  const schema = route.responses[status];
  if (schema === undefined) throw new Error(`${route.method} ${route.path} has no ${status} answer in the route table`);
  return HttpResponse.json(schema.parse(body) as never, { status });
}

export function errorResponse(status: number, code: ErrorCode, detail: string): Response {
  return HttpResponse.json(ErrorBodySchema.parse({ detail, code, request_id: 'req-test' }), { status });
}

/** A handler for `route`; registered later than another for the same route, it wins. */
function routeHandler<R extends RouteDefinition>(route: R, resolve: NoInfer<Resolver<R>>) {
  const method = route.method.toLowerCase() as Lowercase<RouteDefinition['method']>;
  return http[method](route.path, async ({ request, params }) => {
    const text = await request.clone().text();
    const call: RecordedRequest = {
      method: request.method,
      path: new URL(request.url).pathname,
      url: new URL(request.url),
      params: params as Record<string, string>,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      headers: request.headers,
      signal: request.signal,
    };
    if (route.body !== undefined && !route.body.safeParse(call.body).success) {
      throw new Error(`${route.method} ${route.path}: the client sent a body the contract refuses: ${text}`);
    }
    recorded.push(call);
    const reply = await resolve(call);
    return reply instanceof Response ? reply : routeResponse(route, reply);
  });
}

/** Answers `route` with `resolve` from now until the end of the test. */
export function onRoute<R extends RouteDefinition>(route: R, resolve: NoInfer<Resolver<R>>): void {
  server.use(routeHandler(route, resolve));
}

/** A promise the test resolves when it chooses, to hold a response "in flight". */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}
