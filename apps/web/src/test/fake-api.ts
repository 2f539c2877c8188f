import {
  LIST_LIMIT_DEFAULT,
  MESSAGES_PAGE_DEFAULT,
  routes,
  UpdateChatRequestSchema,
  USER_SEARCH_LIMIT,
  type ChatMetadata,
  type Message,
  type User,
} from '@simorgh/contracts';
import { makeChat, TEST_USER } from './factories';
import { errorResponse, onRoute, recordedRequests } from './route-handlers';
import { openSseStream } from './sse';

/** An open `GET /api/chats/:id/events` stream the test feeds, with the ID the client followed from. */
export type EventFollower = { chatId: string; lastEventId: string | null; stream: ReturnType<typeof openSseStream> };

/** Someone in TPMS the share dialog can find, and the projects they have permission on. */
export type FakePerson = User & { projects?: string[] };

/**
 * Default handlers for a signed-in user's chats, backed by plain arrays the test can inspect and
 * seed. Chats whose `access` is not "owner" are others' chats shared with the user: they are
 * listed under scope=shared (a page of LIST_LIMIT_DEFAULT at a time, the cursor being the index
 * to go on from), never in the user's own list. Tests register their own handlers on top (`on`)
 * for the behaviour under test. Each chat's
 * events stream stays open and silent until the test sends on it (`followers`); a messages page
 * reflects the chat's events up to `lastEventIds[chatId]` (`0-0`, none, unless seeded).
 */
export function installFakeApi({
  chats = [] as ChatMetadata[],
  messages = {} as Record<string, Message[]>,
  lastEventIds = {} as Record<string, string>,
  isAdmin = false,
  people = [] as FakePerson[],
} = {}) {
  const state = { chats: [...chats], messages: { ...messages }, lastEventIds: { ...lastEventIds }, people: [...people], nextId: 100 };
  const followers: EventFollower[] = [];
  onRoute(routes.me, () => ({ status: 200, body: { user: TEST_USER, is_admin: isAdmin } }));
  const notFound = (chatId: string | undefined) => errorResponse(404, 'not_found', `Chat ${chatId} not found`);

  onRoute(routes.listChats, ({ url }) => {
    const status = url.searchParams.get('status') ?? 'active';
    const shared = url.searchParams.get('scope') === 'shared';
    const listed = state.chats.filter(
      (chat) => (chat.access !== 'owner') === shared && (status === 'all' || chat.status === status),
    );
    if (!shared) return { status: 200, body: { chats: listed, next_cursor: null } };
    const from = Number(url.searchParams.get('cursor') ?? 0);
    const end = from + Number(url.searchParams.get('limit') ?? LIST_LIMIT_DEFAULT);
    return { status: 200, body: { chats: listed.slice(from, end), next_cursor: end < listed.length ? String(end) : null } };
  });
  // As the API: active people whose user ID or name starts with q, on the project if one is given.
  onRoute(routes.searchUsers, ({ url }) => {
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const project = url.searchParams.get('project_number');
    const found = state.people.filter(
      (person) =>
        (person.user_id.toLowerCase().startsWith(q) || person.display_name.toLowerCase().startsWith(q)) &&
        (project === null || (person.projects ?? []).includes(project)),
    );
    const users = found.slice(0, USER_SEARCH_LIMIT).map(({ user_id, display_name }) => ({ user_id, display_name }));
    return { status: 200, body: { users } };
  });
  onRoute(routes.userNames, ({ url }) => {
    const ids = (url.searchParams.get('ids') ?? '').split(',');
    const users = ids.map((id) => ({ user_id: id, display_name: state.people.find((person) => person.user_id === id)?.display_name ?? id }));
    return { status: 200, body: { users } };
  });
  onRoute(routes.getChat, ({ params }) => {
    const chat = state.chats.find((c) => c.chat_id === params.id);
    return chat === undefined ? notFound(params.id) : { status: 200, body: { chat } };
  });
  // Pages as the API does: the newest `limit` before `before`, oldest first.
  onRoute(routes.listMessages, ({ params, url }) => {
    const all = state.messages[params.id ?? ''] ?? [];
    const before = url.searchParams.get('before');
    const end = before === null ? all.length : all.findIndex((m) => m.message_id === before);
    if (end < 0) return errorResponse(400, 'validation', 'before must be the ID of a message in this chat');
    const start = Math.max(0, end - Number(url.searchParams.get('limit') ?? MESSAGES_PAGE_DEFAULT));
    const messages = all.slice(start, end);
    const lastEventId = state.lastEventIds[params.id ?? ''] ?? '0-0';
    return { status: 200, body: { messages, next_before: start > 0 ? (messages[0]?.message_id ?? null) : null, last_event_id: lastEventId } };
  });
  onRoute(routes.chatEvents, ({ params, url, headers, signal }) => {
    const stream = openSseStream(signal);
    followers.push({ chatId: params.id ?? '', lastEventId: headers.get('Last-Event-ID') ?? url.searchParams.get('last_event_id'), stream });
    return stream.response;
  });
  onRoute(routes.createChat, () => {
    state.nextId += 1;
    const chat = makeChat({ chat_id: `G-202611-000${state.nextId}`, chat_name: 'New conversation' });
    state.chats.unshift(chat);
    return { status: 201, body: { status: 'success', chat, message: 'Chat created' } };
  });
  onRoute(routes.updateChat, ({ params, body }) => {
    const index = state.chats.findIndex((c) => c.chat_id === params.id);
    const existing = state.chats[index];
    if (existing === undefined) return notFound(params.id);
    const chat = { ...existing, ...UpdateChatRequestSchema.parse(body) };
    state.chats[index] = chat;
    return { status: 200, body: { chat } };
  });
  onRoute(routes.logout, () => ({ status: 200, body: { status: 'success' } }));
  onRoute(routes.deleteChat, ({ params }) => {
    state.chats = state.chats.filter((c) => c.chat_id !== params.id);
    return { status: 200, body: { status: 'success', chat_id: params.id ?? '' } };
  });

  return { state, followers, on: onRoute, calls: recordedRequests };
}
