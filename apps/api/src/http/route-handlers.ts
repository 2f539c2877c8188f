import type {
  RouteBody,
  RouteName,
  RouteParams,
  RouteQuery,
  RouteResponse,
  Routes,
  EventFrame,
} from '@simorgh/contracts';
import type { SignIn } from '../features/auth/tokens.js';
import type { EncodedJson } from './send-json.js';

/** What a handler gets: the route's inputs parsed with its contract schemas, and who asks. */
export type RouteRequest<R> = {
  params: RouteParams<R>;
  query: RouteQuery<R>;
  body: RouteBody<R>;
  /** The client's address, as the trusted proxy reports it. */
  ip: string;
} & (R extends { access: 'public' }
  ? { /** The user of a valid bearer token, when the request carries one (public routes refuse no one). */ viewer?: string }
  : {
      /** The token's `sub`, never anything from the body. */
      userId: string;
      /** The token the request came with (what sign-out revokes). */
      signIn: SignIn;
    }) &
  (R extends { stream: true }
    ? {
        /** Aborted when the client goes away before the stream ends. */
        signal: AbortSignal;
        /** The Last-Event-ID header: the last event the client has (EventSource sends it when it reconnects). */
        lastEventId: string | undefined;
      }
    : object);

type Encodable<T> = T extends { status: infer S; body: infer B } ? { status: S; body: B | EncodedJson<B> } : never;

/** A JSON answer: one of the route's success statuses with its body, and any extra headers. */
export type RouteReply<R> = Encodable<RouteResponse<R>> & { headers?: Record<string, string> };

/**
 * A handler answers with data, never by writing to the response: JSON routes return their
 * status and body, streaming routes the events to send (refusals are thrown before that, as
 * AppError, and become the one error body).
 */
export type RouteHandler<R> = R extends { stream: true }
  ? (request: RouteRequest<R>) => Promise<AsyncIterable<EventFrame>>
  : (request: RouteRequest<R>) => Promise<RouteReply<R>>;

/** The handlers of some routes of the table, keyed by route name; nothing else can be mounted. */
export type RouteHandlers<N extends RouteName> = { [K in N]: RouteHandler<Routes[K]> };
