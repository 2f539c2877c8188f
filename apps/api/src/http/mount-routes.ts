import express, { Router, type Express, type Request, type RequestHandler, type Response } from 'express';
import { MESSAGE_CONTENT_MAX, routes, type RouteDefinition, type RouteName } from '@simorgh/contracts';
import { BODY_LIMIT } from './body-limit.js';
import { writeEventStream } from './event-stream.js';
import { routeLabel } from './http-metrics.js';
import { readMultipartFields } from './multipart-fields.js';
import type { RouteHandler, RouteHandlers } from './route-handlers.js';
import { currentSignIn, currentUser } from './require-auth.js';
import { sendJson } from './send-json.js';

/** Every route of the table with its handler: a missing or unknown handler does not typecheck. */
export type AllRouteHandlers = RouteHandlers<RouteName>;

export type RouteGuards = {
  /** On public routes: sets the user when a valid bearer token is present, never refuses. */
  viewer: RequestHandler;
  /** Verifies the bearer token and sets the user. */
  user: RequestHandler;
  /** Runs after `user`: refuses anyone not named in ADMIN_USERS. */
  admin: RequestHandler;
};

type AnyReply = { status: number; body: unknown; headers?: Record<string, string> };
type AnyHandler = (request: Record<string, unknown>) => Promise<AnyReply | AsyncIterable<never>>;

const urlencoded = express.urlencoded({ extended: false, limit: BODY_LIMIT });

/** Form bodies (curl -F or URL-encoded) for routes marked `forms`; JSON is read by the app. */
async function formOrJson(req: Request): Promise<unknown> {
  if (req.is('multipart/form-data')) return readMultipartFields(req, MESSAGE_CONTENT_MAX * 4, BODY_LIMIT);
  return req.body ?? {};
}

function handlerFor(route: RouteDefinition, handler: AnyHandler, heartbeatMs: number | undefined): RequestHandler {
  return async (req: Request, res: Response) => {
    const request: Record<string, unknown> = {
      params: route.params ? route.params.parse(req.params) : undefined,
      query: route.query ? route.query.parse(req.query) : undefined,
      body: route.body ? route.body.parse(route.forms ? await formOrJson(req) : (req.body ?? {})) : undefined,
      ip: req.ip ?? 'unknown',
    };
    if (route.access !== 'public') {
      request.userId = currentUser(res);
      request.signIn = currentSignIn(res);
    } else if (res.locals.userId) {
      request.viewer = res.locals.userId;
    }
    if (!route.stream) {
      const reply = (await handler(request)) as AnyReply;
      if (reply.headers) res.set(reply.headers);
      sendJson(res, reply.status, reply.body);
      return;
    }
    const controller = new AbortController();
    let streaming = true;
    // The response's close (not the request's, which fires once the body is read) means the
    // client went away before the stream ended.
    res.on('close', () => {
      if (streaming) controller.abort();
    });
    request.signal = controller.signal;
    request.lastEventId = req.get('Last-Event-ID');
    const events = (await handler(request)) as AsyncIterable<never>;
    try {
      await writeEventStream(res, events, heartbeatMs);
    } finally {
      streaming = false;
    }
  };
}

/**
 * Mounts every route of the contracts' table with its handler. Routes are grouped under their
 * first path segment (`/api/chats`, `/api/auth` …), each group one router mounted at its prefix,
 * so a request enters only the router that can answer it.
 */
export function mountRoutes(
  app: Express,
  handlers: AllRouteHandlers,
  guards: RouteGuards,
  options: { heartbeatMs?: number; /** Label each request with its route's template for the HTTP metrics. */ labelRoutes?: boolean } = {},
): void {
  const groups = new Map<string, Router>();
  for (const name of Object.keys(routes) as RouteName[]) {
    const route: RouteDefinition = routes[name];
    const [, api, group, ...rest] = route.path.split('/');
    const prefix = `/${api}/${group}`;
    let router = groups.get(prefix);
    if (!router) {
      router = Router();
      groups.set(prefix, router);
    }
    const chain: RequestHandler[] = [];
    if (options.labelRoutes) chain.push(routeLabel(route.path));
    chain.push(route.access === 'public' ? guards.viewer : guards.user);
    if (route.access === 'admin') chain.push(guards.admin);
    if (route.forms) chain.push(urlencoded);
    const handler = handlers[name] as RouteHandler<unknown> as unknown as AnyHandler;
    chain.push(handlerFor(route, handler, options.heartbeatMs));
    const method = route.method.toLowerCase() as Lowercase<RouteDefinition['method']>;
    router[method](`/${rest.join('/')}`, ...chain);
  }
  for (const [prefix, router] of groups) app.use(prefix, router);
}
