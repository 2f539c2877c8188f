/**
 * The one table of every API route: method, path, inputs, responses by status, whether it
 * streams and who may call it. The API mounts its handlers from it (a handler for a route not
 * in the table cannot be mounted; a route without a handler does not typecheck), the web client
 * calls through it, and the isolation, fuzz and attack tests enumerate it. See
 * docs/decisions/route-table.md for why this is a typed table of our own rather than ts-rest.
 */
import { z } from 'zod';
import {
  ArchiveRunRequestSchema,
  ArchiveRunResponseSchema,
  InvalidateTpmsCacheRequestSchema,
  InvalidateTpmsCacheResponseSchema,
  UsageQuerySchema,
  UsageResponseSchema,
} from './admin.js';
import { LoginRequestSchema, LoginResponseSchema, LogoutResponseSchema, MeResponseSchema } from './auth.js';
import {
  ChatResponseSchema,
  CreateChatRequestSchema,
  CreateChatResponseSchema,
  DeleteChatResponseSchema,
  ListChatsQuerySchema,
  ListChatsResponseSchema,
  UpdateChatRequestSchema,
} from './chats.js';
import { HealthResponseSchema, LlmDiagnosticsSchema } from './health.js';
import {
  ChatEventsQuerySchema,
  GenerateTitleRequestSchema,
  GenerateTitleResponseSchema,
  ListMessagesQuerySchema,
  ListMessagesResponseSchema,
  SendMessageRequestSchema,
  StopResponseSchema,
  StreamEventSchema,
} from './messages.js';
import { ProjectNumberSchema, ProjectSchema } from './projects.js';
import { SearchQuerySchema, SearchResponseSchema } from './search.js';
import { SearchUsersQuerySchema, SearchUsersResponseSchema, UserNamesQuerySchema, UserNamesResponseSchema } from './users.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Who may call a route: anyone, any signed-in user, or the users named in ADMIN_USERS. */
export type RouteAccess = 'public' | 'user' | 'admin';

export type RouteDefinition = {
  method: HttpMethod;
  /** Express-style path; each `:name` is a path parameter described by `params`. */
  path: `/api/${string}`;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body may also come as a URL-encoded or multipart form (fields as strings), not only JSON. */
  forms?: boolean;
  /**
   * Successful answers by status. A streaming route answers 200 with `text/event-stream`, each
   * event parsed by the schema; refusals before the stream opens are JSON errors. Every error,
   * on every route, is the one error body (`ErrorBodySchema`) with the status of its code.
   */
  responses: Readonly<Record<number, z.ZodType>>;
  stream?: boolean;
  access: RouteAccess;
  summary: string;
};

/** A chat's ID in the path; any string, since an unknown or malformed ID is a 404, not a 400. */
export const ChatPathParamsSchema = z.object({ id: z.string() });
export const ProjectPathParamsSchema = z.object({ project_number: ProjectNumberSchema });

export const routes = {
  health: {
    method: 'GET',
    path: '/api/health',
    responses: { 200: HealthResponseSchema, 503: HealthResponseSchema },
    access: 'public',
    summary: 'Status of the API and each service it depends on',
  },
  login: {
    method: 'POST',
    path: '/api/auth/login',
    body: LoginRequestSchema,
    responses: { 200: LoginResponseSchema },
    access: 'public',
    summary: 'Sign in with a TPMS account',
  },
  logout: {
    method: 'POST',
    path: '/api/auth/logout',
    responses: { 200: LogoutResponseSchema },
    access: 'user',
    summary: 'Sign out: revoke the token the request came with, in every API process',
  },
  me: {
    method: 'GET',
    path: '/api/auth/me',
    responses: { 200: MeResponseSchema },
    access: 'user',
    summary: 'The signed-in user',
  },
  createChat: {
    method: 'POST',
    path: '/api/chats',
    body: CreateChatRequestSchema,
    responses: { 201: CreateChatResponseSchema },
    access: 'user',
    summary: 'Open a general chat, or a project chat after checking TPMS',
  },
  listChats: {
    method: 'GET',
    path: '/api/chats',
    query: ListChatsQuerySchema,
    responses: { 200: ListChatsResponseSchema },
    access: 'user',
    summary: "One page of the user's chats (pinned first, then newest first), or of the chats shared with them (scope=shared, newest first)",
  },
  getChat: {
    method: 'GET',
    path: '/api/chats/:id',
    params: ChatPathParamsSchema,
    responses: { 200: ChatResponseSchema },
    access: 'user',
    summary: 'One chat',
  },
  updateChat: {
    method: 'PATCH',
    path: '/api/chats/:id',
    params: ChatPathParamsSchema,
    body: UpdateChatRequestSchema,
    responses: { 200: ChatResponseSchema },
    access: 'user',
    summary: 'Rename, pin, archive or share a chat (owner only)',
  },
  deleteChat: {
    method: 'DELETE',
    path: '/api/chats/:id',
    params: ChatPathParamsSchema,
    responses: { 200: DeleteChatResponseSchema },
    access: 'user',
    summary: 'Delete a chat and its messages',
  },
  listMessages: {
    method: 'GET',
    path: '/api/chats/:id/messages',
    params: ChatPathParamsSchema,
    query: ListMessagesQuerySchema,
    responses: { 200: ListMessagesResponseSchema },
    access: 'user',
    summary: "One page of a chat's messages (the newest before a cursor), oldest first",
  },
  sendMessage: {
    method: 'POST',
    path: '/api/chats/:id/messages',
    params: ChatPathParamsSchema,
    body: SendMessageRequestSchema,
    responses: { 200: StreamEventSchema },
    stream: true,
    access: 'user',
    summary: 'Save a message and stream the reply',
  },
  regenerateReply: {
    method: 'POST',
    path: '/api/chats/:id/regenerate',
    params: ChatPathParamsSchema,
    responses: { 200: StreamEventSchema },
    stream: true,
    access: 'user',
    summary: 'Write the last reply again, in its place',
  },
  stopReply: {
    method: 'POST',
    path: '/api/chats/:id/stop',
    params: ChatPathParamsSchema,
    responses: { 200: StopResponseSchema },
    access: 'user',
    summary: 'Stop the reply being written, in whichever API process writes it',
  },
  chatEvents: {
    method: 'GET',
    path: '/api/chats/:id/events',
    params: ChatPathParamsSchema,
    query: ChatEventsQuerySchema,
    responses: { 200: StreamEventSchema },
    stream: true,
    access: 'user',
    summary: "Follow a chat's events live, after the Last-Event-ID header (or last_event_id) if given",
  },
  generateTitle: {
    method: 'POST',
    path: '/api/chats/:id/generate-title',
    params: ChatPathParamsSchema,
    body: GenerateTitleRequestSchema,
    forms: true,
    responses: { 200: GenerateTitleResponseSchema },
    access: 'user',
    summary: 'Title a general chat from its first message',
  },
  search: {
    method: 'GET',
    path: '/api/search',
    query: SearchQuerySchema,
    responses: { 200: SearchResponseSchema },
    access: 'user',
    summary: 'Find messages and chat titles, in the chats the user may open, by their words',
  },
  getProject: {
    method: 'GET',
    path: '/api/projects/:project_number',
    params: ProjectPathParamsSchema,
    responses: { 200: ProjectSchema },
    access: 'user',
    summary: 'A project the user has TPMS permission for',
  },
  searchUsers: {
    method: 'GET',
    path: '/api/users',
    query: SearchUsersQuerySchema,
    responses: { 200: SearchUsersResponseSchema },
    access: 'user',
    summary: 'Active TPMS users by the start of their ID or name, for sharing a chat',
  },
  userNames: {
    method: 'GET',
    path: '/api/users/names',
    query: UserNamesQuerySchema,
    responses: { 200: UserNamesResponseSchema },
    access: 'user',
    summary: 'TPMS display names of up to 50 user IDs, for the people a chat is shared with',
  },
  invalidateTpmsCache: {
    method: 'POST',
    path: '/api/admin/tpms-cache/invalidate',
    body: InvalidateTpmsCacheRequestSchema,
    responses: { 200: InvalidateTpmsCacheResponseSchema },
    access: 'admin',
    summary: 'Drop cached TPMS answers for a project, a user or both',
  },
  adminUsage: {
    method: 'GET',
    path: '/api/admin/usage',
    query: UsageQuerySchema,
    responses: { 200: UsageResponseSchema },
    access: 'admin',
    summary: 'Model token usage of the replies in a date range, by user, project or day',
  },
  runArchive: {
    method: 'POST',
    path: '/api/admin/archive/run',
    body: ArchiveRunRequestSchema,
    responses: { 200: ArchiveRunResponseSchema },
    access: 'admin',
    summary: 'Move idle chats out of Redis and apply retention now, once earlier changes are mirrored',
  },
  llmDiagnostics: {
    method: 'GET',
    path: '/api/llm/diagnostics',
    responses: { 200: LlmDiagnosticsSchema },
    access: 'user',
    summary: 'Whether the model server answers, and which models are used',
  },
} as const satisfies Record<string, RouteDefinition>;

export type Routes = typeof routes;
export type RouteName = keyof Routes;

/** Every route, each with its name; for tests that must cover them all. */
export const routeList = (Object.keys(routes) as RouteName[]).map((name) => ({ name, ...(routes[name] as RouteDefinition) }));

type Input<R, K extends 'params' | 'query' | 'body'> = R extends Record<K, infer S extends z.ZodType> ? z.input<S> : undefined;
type Output<R, K extends 'params' | 'query' | 'body'> = R extends Record<K, infer S extends z.ZodType> ? z.output<S> : undefined;

export type RouteParamsInput<R> = Input<R, 'params'>;
export type RouteQueryInput<R> = Input<R, 'query'>;
export type RouteBodyInput<R> = Input<R, 'body'>;
export type RouteParams<R> = Output<R, 'params'>;
export type RouteQuery<R> = Output<R, 'query'>;
export type RouteBody<R> = Output<R, 'body'>;

type ResponsesOf<R> = R extends { responses: infer M } ? M : never;
/** A successful status of the route and its body: `{ status: 201, body: CreateChatResponse }`. */
export type RouteResponse<R> = {
  [S in keyof ResponsesOf<R>]: { status: S; body: ResponsesOf<R>[S] extends z.ZodType ? z.output<ResponsesOf<R>[S]> : never };
}[keyof ResponsesOf<R>];

/** The route's path with its parameters filled in (each URL-encoded) and the query appended. */
export function routeUrl(
  route: Pick<RouteDefinition, 'path'>,
  params: Record<string, string | number> = {},
  query: Record<string, string | number | boolean | null | undefined> = {},
): string {
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.path}: missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
