import {
  routes,
  routeUrl,
  type ChatMetadata,
  type CreateChatRequest,
  type InvalidateTpmsCacheRequest,
  type RouteDefinition,
  type UsageQuery,
  type UsageRow,
} from '@simorgh/contracts';
import { waitUntil } from './browser.js';

/**
 * What a journey needs before its browser steps (a user's chats, a reply in them), made through
 * the same API the page uses, so each journey sets up its own world and runs alone or in any order.
 */
export type ApiSession = {
  createChat(body: CreateChatRequest): Promise<ChatMetadata>;
  /** Sends a message and reads the reply stream to its end; resolves once the chat is titled. */
  sendMessage(chatId: string, content: string, title: string): Promise<void>;
  /** POST /api/admin/tpms-cache/invalidate (the session's user must be an admin). */
  invalidateTpmsCache(body: InvalidateTpmsCacheRequest): Promise<void>;
  /** GET /api/admin/usage (the session's user must be an admin). */
  usage(query: Omit<UsageQuery, 'limit'>): Promise<UsageRow[]>;
};

async function call(
  baseUrl: string,
  route: RouteDefinition,
  options: { token?: string; params?: Record<string, string>; query?: Record<string, string | number | undefined>; body?: unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}${routeUrl(route, options.params, options.query)}`, {
    method: route.method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (!response.ok) throw new Error(`${route.method} ${route.path} answered ${response.status}: ${await response.text()}`);
  return response;
}

export async function apiSession(baseUrl: string, username: string, password: string): Promise<ApiSession> {
  const login = await call(baseUrl, routes.login, { body: { username, password } });
  const { access_token: token } = routes.login.responses[200].parse(await login.json());

  const getChat = async (chatId: string) => {
    const response = await call(baseUrl, routes.getChat, { token, params: { id: chatId } });
    return routes.getChat.responses[200].parse(await response.json()).chat;
  };

  return {
    async createChat(body) {
      const response = await call(baseUrl, routes.createChat, { token, body });
      return routes.createChat.responses[201].parse(await response.json()).chat;
    },
    async sendMessage(chatId, content, title) {
      const response = await call(baseUrl, routes.sendMessage, { token, params: { id: chatId }, body: { content } });
      const stream = await response.text();
      if (!stream.includes('"type":"assistant_message"')) throw new Error(`the reply in ${chatId} did not finish: ${stream}`);
      await waitUntil(`${chatId} is titled "${title}"`, async () => (await getChat(chatId)).chat_name === title);
    },
    async invalidateTpmsCache(body) {
      await call(baseUrl, routes.invalidateTpmsCache, { token, body });
    },
    async usage(query) {
      const response = await call(baseUrl, routes.adminUsage, { token, query });
      return routes.adminUsage.responses[200].parse(await response.json()).rows;
    },
  };
}
